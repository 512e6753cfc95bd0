package openapitest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// loadOrSkip is Load for the tests of the validator itself, which have
// nothing to check without the document.
func loadOrSkip(t *testing.T) *Spec {
	t.Helper()
	s := Load(t)
	if s.skip != "" {
		t.Skip("needs Qdrant's openapi.json: " + s.skip)
	}
	return s
}

// helperEnv tells TestLoadChild that it runs in a child process started by
// TestLoadWithoutLocalSpec.
const helperEnv = "SHOAL_OPENAPITEST_CHILD"

// TestLoadChild loads the spec twice, as two tests of a package would, and
// prints whether a body that breaks the contract is caught. It does nothing
// unless TestLoadWithoutLocalSpec runs it in a child process, where the
// process-wide state starts empty.
func TestLoadChild(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("run by TestLoadWithoutLocalSpec in a child process")
	}
	for i := range 2 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			s := Load(t)
			err := s.Validate("PUT", "/collections/x", 200, []byte(`{"result":"yes","status":"ok","time":0}`))
			fmt.Printf("caught=%t\n", err != nil)
		})
	}
}

// TestLoadWithoutLocalSpec runs Load in a fresh process whose working
// directory is a module with no shared/ folder beside it, as in a plain
// clone of the repository, against a download server of the test's choice.
func TestLoadWithoutLocalSpec(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var pinned []byte // the real document, when this checkout has it
	if os.Getenv("SHOAL_OPENAPI") == "" {
		s := Load(t)
		if s.skip == "" {
			pinned = shared.data
		}
	}
	closedURL := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return "http://" + ln.Addr().String() + "/openapi.json"
	}()
	cache := t.TempDir()
	// Where the child caches a verified download ($XDG_CACHE_HOME/shoal).
	cached := fetcher{cacheDir: filepath.Join(cache, "shoal"), sum: specSHA256}.cachePath()

	cases := []struct {
		name     string
		body     []byte // served with 200; nil serves a 404
		url      string // instead of the test server
		require  bool
		fail     bool     // the child must fail
		skipWith []string // the one skip line must say these; nil: no skip line
	}{
		{name: "no network", url: closedURL, skipWith: []string{"SKIPPING schema validation", "download " + closedURL, "SHOAL_OPENAPI"}},
		{name: "not found", skipWith: []string{"SKIPPING schema validation", "404 Not Found"}},
		{name: "wrong sha256", body: []byte(`{"openapi":"3.0.1","paths":{}}`), skipWith: []string{"SKIPPING schema validation", "sha256 mismatch", "refused"}},
		{name: "required", require: true, fail: true},
		{name: "verified download", body: pinned},
		{name: "cached copy", url: closedURL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if pinned == nil && (tc.name == "verified download" || tc.name == "cached copy") {
				t.Skip("no openapi.json beside the repository to serve")
			}
			if tc.name == "cached copy" {
				if err := writeFileAtomic(cached, pinned); err != nil {
					t.Fatal(err)
				}
			}
			url := tc.url
			if url == "" {
				body := tc.body
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if body == nil {
						http.NotFound(w, r)
						return
					}
					w.Write(body)
				}))
				defer srv.Close()
				url = srv.URL + "/openapi.json"
			}
			module := t.TempDir()
			if err := os.WriteFile(filepath.Join(module, "go.mod"), []byte("module fresh\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(exe, "-test.run=^TestLoadChild$", "-test.count=1")
			cmd.Dir = module
			cmd.Env = childEnv(helperEnv+"=1", "GORACE=atexit_sleep_ms=0", "SHOAL_OPENAPI_URL="+url, "HOME="+cache, "XDG_CACHE_HOME="+cache)
			if tc.require {
				cmd.Env = append(cmd.Env, "SHOAL_OPENAPI_REQUIRED=1")
			}
			out, err := cmd.CombinedOutput()
			if tc.fail {
				if err == nil || !strings.Contains(string(out), "SHOAL_OPENAPI_REQUIRED=1") {
					t.Fatalf("child: %v, want a failure naming $SHOAL_OPENAPI_REQUIRED:\n%s", err, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			lines := strings.Split(string(out), "\n")
			var skips []string
			caught := 0
			for _, l := range lines {
				if strings.Contains(l, "SKIPPING") {
					skips = append(skips, l)
				}
				if l == "caught=true" {
					caught++
				}
			}
			if tc.skipWith == nil {
				if len(skips) != 0 || caught != 2 {
					t.Fatalf("want validation in both tests, got %d caught and skip lines %q:\n%s", caught, skips, out)
				}
				if got, err := os.ReadFile(cached); err != nil || !bytes.Equal(got, pinned) {
					t.Errorf("no verified copy at %s after the run (%v)", cached, err)
				}
				return
			}
			if len(skips) != 1 || caught != 0 || strings.Count(string(out), "caught=false") != 2 {
				t.Fatalf("want one skip line and two unvalidated tests:\n%s", out)
			}
			if _, err := os.Stat(cached); err == nil {
				t.Errorf("%s exists after a run that had no document to cache", cached)
			}
			for _, w := range tc.skipWith {
				if !strings.Contains(skips[0], w) {
					t.Errorf("skip line does not say %q: %s", w, skips[0])
				}
			}
		})
	}
}

// childEnv is the environment without any SHOAL_OPENAPI* setting, plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SHOAL_OPENAPI") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "XDG_CACHE_HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func TestSkippedSpec(t *testing.T) {
	s := &Spec{skip: "no network"}
	bad := []byte(`{"result":"yes"}`)
	if err := s.Validate("GET", "/nope", 599, bad); err != nil {
		t.Errorf("Validate on a skipped spec: %v", err)
	}
	rec := &recorder{TB: t}
	s.Check(rec, "GET", "/nope", 599, bad)
	base := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 599, Body: http.NoBody, Request: r}, nil
	})}
	c := s.Client(rec, base)
	if c == base || c.Transport == nil {
		t.Fatal("Client must return a copy keeping the base transport")
	}
	resp, err := c.Get("http://shoal.invalid/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(rec.errs) != 0 {
		t.Errorf("a skipped spec reported %q", rec.errs)
	}
	if line := s.skipLine(); strings.Count(line, "\n") != 0 || !strings.Contains(line, "no network") || !strings.Contains(line, "SKIPPING") {
		t.Errorf("skip line %q", line)
	}
}
