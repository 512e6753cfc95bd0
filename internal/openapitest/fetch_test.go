package openapitest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testDoc stands for the pinned document in these tests: the fetcher checks
// bytes against a sha256 and nothing else.
const testDoc = `{"openapi": "3.0.1", "paths": {}}`

func sumOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// specServer serves body at /openapi.json (status 200) and counts requests.
// A handler that must hang waits for the request to be cancelled.
type specServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newSpecServer(t *testing.T, status int, body string, hang bool) *specServer {
	t.Helper()
	s := &specServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if hang {
			<-r.Context().Done()
			return
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(s.Close)
	return s
}

func testFetcher(url, cacheDir string) fetcher {
	return fetcher{
		url:      url,
		sum:      sumOf(testDoc),
		cacheDir: cacheDir,
		maxBytes: 1 << 10,
		client:   &http.Client{Timeout: 5 * time.Second},
	}
}

func TestFetcherGet(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		body    string
		hang    bool
		timeout time.Duration
		want    string // "" for success, else a substring of the error
		is      error
	}{
		{name: "pinned document", status: 200, body: testDoc},
		{name: "different bytes refused", status: 200, body: testDoc + "\n", want: "refused", is: ErrChecksum},
		{name: "html error page refused", status: 200, body: "<html>captive portal</html>", is: ErrChecksum},
		{name: "not found", status: 404, body: "404: Not Found", want: "404 Not Found"},
		{name: "too large", status: 200, body: strings.Repeat(" ", 2<<10) + testDoc, want: "larger than 1024 bytes"},
		{name: "timeout", hang: true, timeout: 100 * time.Millisecond, want: "Client.Timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newSpecServer(t, tc.status, tc.body, tc.hang)
			cache := t.TempDir()
			f := testFetcher(srv.URL+"/openapi.json", cache)
			if tc.timeout != 0 {
				f.client.Timeout = tc.timeout
			}
			data, source, err := f.get(context.Background())
			if tc.want == "" && tc.is == nil {
				if err != nil {
					t.Fatalf("get: %v", err)
				}
				if string(data) != testDoc || !strings.Contains(source, "sha256 verified") {
					t.Fatalf("get = %q from %q", data, source)
				}
				cached, err := os.ReadFile(f.cachePath())
				if err != nil || string(cached) != testDoc {
					t.Fatalf("cache holds %q, %v; want the document", cached, err)
				}
				return
			}
			if err == nil || data != nil {
				t.Fatalf("get = %q, %v; want an error", data, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), srv.URL) {
				t.Errorf("error %q does not name %q and the URL", err, tc.want)
			}
			if entries, _ := os.ReadDir(cache); len(entries) != 0 {
				t.Errorf("a failed download left %d files in the cache", len(entries))
			}
		})
	}
}

func TestFetcherCache(t *testing.T) {
	srv := newSpecServer(t, 200, testDoc, false)
	cache := filepath.Join(t.TempDir(), "not", "yet")
	f := testFetcher(srv.URL+"/openapi.json", cache)

	for i, wantHits := range []int64{1, 1} {
		data, source, err := f.get(context.Background())
		if err != nil || string(data) != testDoc {
			t.Fatalf("get #%d = %q, %v", i, data, err)
		}
		if got := srv.hits.Load(); got != wantHits {
			t.Fatalf("get #%d: %d downloads, want %d (source %s)", i, got, wantHits, source)
		}
	}

	// A damaged copy is not used: the document is downloaded again and the
	// copy replaced.
	if err := os.WriteFile(f.cachePath(), []byte(`{"paths": {"/evil": {}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	data, _, err := f.get(context.Background())
	if err != nil || string(data) != testDoc || srv.hits.Load() != 2 {
		t.Fatalf("get over a damaged copy = %q, %v after %d downloads", data, err, srv.hits.Load())
	}
	if cached, _ := os.ReadFile(f.cachePath()); string(cached) != testDoc {
		t.Errorf("damaged copy not replaced: %q", cached)
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 1 {
		t.Errorf("cache holds %d files, want 1 (temporary files left?)", len(entries))
	}

	// With the server gone, the verified copy still serves.
	srv.Close()
	if data, source, err := f.get(context.Background()); err != nil || string(data) != testDoc || !strings.Contains(source, "cached") {
		t.Errorf("get from cache only = %q from %q, %v", data, source, err)
	}
}

func TestFetcherWithoutCacheDir(t *testing.T) {
	srv := newSpecServer(t, 200, testDoc, false)
	f := testFetcher(srv.URL+"/openapi.json", "")
	for range 2 {
		if data, _, err := f.get(context.Background()); err != nil || string(data) != testDoc {
			t.Fatalf("get = %q, %v", data, err)
		}
	}
	if srv.hits.Load() != 2 {
		t.Errorf("%d downloads without a cache, want 2", srv.hits.Load())
	}
}

func TestFetcherUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/openapi.json"
	ln.Close()
	f := testFetcher(url, t.TempDir())
	if _, _, err := f.get(context.Background()); err == nil || !strings.Contains(err.Error(), "download "+url) {
		t.Errorf("get from a closed port: %v", err)
	}
}

// TestPinnedChecksum holds the pin to the document beside the repository,
// when there is one: the two must be the same file.
func TestPinnedChecksum(t *testing.T) {
	if os.Getenv(EnvSpecPath) != "" {
		t.Skipf("$%s names another document", EnvSpecPath)
	}
	path, _, err := locateSpec()
	if err != nil || path == "" {
		t.Skipf("no openapi.json beside the repository (%v)", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := defaultFetcher()
	if err := f.verify(data); err != nil {
		t.Errorf("%s: %v", path, err)
	}
	if !strings.Contains(f.url, "/"+QdrantVersion+"/") && os.Getenv(EnvSpecURL) == "" {
		t.Errorf("default URL %s is not pinned to the tag %s", f.url, QdrantVersion)
	}
}
