package rest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
)

func TestRootVersion(t *testing.T) {
	s := newServer(t, rest.Options{})
	r := s.do(http.MethodGet, "/", nil)
	if r.code != http.StatusOK {
		t.Fatalf("GET /: status %d: %s", r.code, r.body)
	}
	var info struct {
		Title        string `json:"title"`
		Version      string `json:"version"`
		ShoalVersion string `json:"shoal_version"`
	}
	decode(t, r.body, &info)
	if info.Version != "1.19.0" {
		t.Errorf("version %q, want 1.19.0", info.Version)
	}
	if info.ShoalVersion != testVersion {
		t.Errorf("shoal_version %q, want %q", info.ShoalVersion, testVersion)
	}
	if info.Title == "" {
		t.Error("title is empty")
	}
}

// TestRootCommit: GET / reports the commit Shoal was built from, and null
// when the build does not know it (tests run with -buildvcs=false).
func TestRootCommit(t *testing.T) {
	for _, tc := range []struct {
		commit string
		want   string
	}{
		{"4f2c9a1", `"4f2c9a1"`},
		{"", "null"},
		{"unknown", "null"},
	} {
		s := newServer(t, rest.Options{Commit: tc.commit})
		r := s.do(http.MethodGet, "/", nil)
		var info map[string]json.RawMessage
		decode(t, r.body, &info)
		if got, ok := info["commit"]; !ok || string(got) != tc.want {
			t.Errorf("commit %q: GET / has commit %s (present %v), want %s", tc.commit, got, ok, tc.want)
		}
	}
}

func TestHealthEndpoints(t *testing.T) {
	s := newServer(t, rest.Options{})
	for _, tc := range []struct{ path, want string }{
		{"/healthz", "healthz check passed"},
		{"/livez", "healthz check passed"},
		{"/readyz", "all shards are ready"},
	} {
		t.Run(strings.TrimPrefix(tc.path, "/"), func(t *testing.T) {
			r := s.do(http.MethodGet, tc.path, nil)
			if r.code != http.StatusOK || string(r.body) != tc.want {
				t.Errorf("GET %s: %d %q, want 200 %q", tc.path, r.code, r.body, tc.want)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("GET %s: Content-Type %q, want text/plain", tc.path, ct)
			}
		})
	}
}

func TestReadyzNotReady(t *testing.T) {
	s := newServer(t, rest.Options{Ready: func() bool { return false }})
	r := s.do(http.MethodGet, "/readyz", nil)
	if r.code != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz: status %d, want 503: %s", r.code, r.body)
	}
}

func TestMetrics(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("m", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.ok(http.MethodGet, "/collections", nil, nil)
	r := s.do(http.MethodGet, "/metrics", nil)
	if r.code != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", r.code)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want text/plain (Prometheus text format)", ct)
	}
	text := string(r.body)
	for _, want := range []string{
		"# TYPE rest_responses_total counter",
		`rest_responses_total{endpoint="GET /collections",method="GET",status="200"} 1`,
		`rest_responses_total{endpoint="PUT /collections/{name}",method="PUT",status="200"} 1`,
		"# TYPE rest_responses_duration_seconds histogram",
		"collections_total 1",
		`app_info{name="shoal",version="` + testVersion + `"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestTelemetry(t *testing.T) {
	s := newServer(t, rest.Options{InstanceID: "test-instance"})
	s.createCollection("tel", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.upsert("tel", pointIn{ID: 1, Vector: []float32{1, 2}}, pointIn{ID: 2, Vector: []float32{3, 4}})
	var tel struct {
		ID  string `json:"id"`
		App struct {
			Version string `json:"version"`
		} `json:"app"`
		Collections struct {
			Number      int `json:"number_of_collections"`
			Collections []struct {
				ID string `json:"id"`
			} `json:"collections"`
		} `json:"collections"`
	}
	s.ok(http.MethodGet, "/telemetry", nil, &tel)
	if tel.ID != "test-instance" {
		t.Errorf("id %q, want test-instance", tel.ID)
	}
	if tel.App.Version != rest.APIVersion {
		t.Errorf("app.version %q, want %q", tel.App.Version, rest.APIVersion)
	}
	if tel.Collections.Number != 1 || len(tel.Collections.Collections) != 1 || tel.Collections.Collections[0].ID != "tel" {
		t.Errorf("collections %+v, want one named tel", tel.Collections)
	}
}

func TestClusterDisabled(t *testing.T) {
	s := newServer(t, rest.Options{})
	res := s.ok(http.MethodGet, "/cluster", nil, nil)
	assertJSON(t, "GET /cluster", res, map[string]any{"status": "disabled"})
}
