package openapitest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recorder captures what the transport reports instead of failing the test.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Helper() {}

func TestClient(t *testing.T) {
	s := loadOrSkip(t)
	mux := http.NewServeMux()
	reply := func(status int, contentType, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if contentType != "" {
				w.Header().Set("Content-Type", contentType)
			}
			w.WriteHeader(status)
			io.WriteString(w, body)
		}
	}
	mux.HandleFunc("GET /collections/good", reply(200, "application/json", collectionInfo))
	mux.HandleFunc("GET /collections/bad", reply(200, "application/json", strings.Replace(collectionInfo, `"green"`, `"purple"`, 1)))
	mux.HandleFunc("GET /collections/missing", reply(404, "application/json", `{"status":{"error":"Not found"},"time":0}`))
	mux.HandleFunc("GET /collections/plain", reply(200, "text/plain", collectionInfo))
	mux.HandleFunc("PUT /collections/good", reply(200, "application/json; charset=utf-8", `{"result":true,"status":"ok","time":0}`))
	mux.HandleFunc("GET /metrics", reply(200, "text/plain; version=0.0.4", "# HELP x\n"))
	mux.HandleFunc("GET /unlisted", reply(200, "application/json", `{}`))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	cases := []struct {
		method, path string
		status       int
		want         string // substring of the one reported error; "" for none
	}{
		{"GET", "/collections/good", 200, ""},
		{"GET", "/collections/missing", 404, ""},
		{"PUT", "/collections/good?wait=true", 200, ""},
		{"GET", "/metrics", 200, ""},
		{"HEAD", "/collections/good", 200, ""},
		{"GET", "/collections/bad", 200, `at "/result/status": enum`},
		{"GET", "/collections/plain", 200, `Content-Type "text/plain"`},
		{"GET", "/unlisted", 200, "no such operation"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := &recorder{TB: t}
			c := s.Client(rec, nil)
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.method != "HEAD" && len(body) == 0 {
				t.Error("the caller got an empty body; the transport must restore it")
			}
			switch {
			case tc.want == "" && len(rec.errs) > 0:
				t.Errorf("unexpected reports: %q", rec.errs)
			case tc.want != "" && (len(rec.errs) != 1 || !strings.Contains(rec.errs[0], tc.want)):
				t.Errorf("reports %q, want one mentioning %q", rec.errs, tc.want)
			}
		})
	}
}

func TestClientKeepsBaseSettings(t *testing.T) {
	s := loadOrSkip(t)
	var used bool
	base := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used = true
		return &http.Response{
			StatusCode: 200,
			Header:     http.Header{"Content-Type": {"application/json"}},
			Body:       io.NopCloser(strings.NewReader(`{"result":true,"status":"ok","time":0}`)),
			Request:    r,
		}, nil
	})}
	rec := &recorder{TB: t}
	c := s.Client(rec, base)
	if c == base || c.Transport == base.Transport {
		t.Fatal("Client must return a copy with its own transport")
	}
	resp, err := c.Post("http://shoal.invalid/collections/aliases", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !used {
		t.Error("base transport not used")
	}
	if len(rec.errs) > 0 {
		t.Errorf("unexpected reports: %q", rec.errs)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
