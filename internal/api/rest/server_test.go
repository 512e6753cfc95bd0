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

// TestMetrics: /metrics carries Qdrant's families (names, labels, help
// texts of its src/common/metrics): rest_responses_* for its whitelisted
// routes only, with the method in its own label and the path pattern in
// `endpoint`, timings for 200 responses; and Shoal's own next to them.
func TestMetrics(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("m", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.upsert("m", pointIn{ID: 1, Vector: []float32{1, 2}}, pointIn{ID: 2, Vector: []float32{3, 4}})
	s.ok(http.MethodGet, "/collections", nil, nil)
	for range 2 {
		s.ok(http.MethodPost, "/collections/m/points/search", map[string]any{"vector": []float32{1, 0}, "limit": 1}, nil)
	}
	s.failPrefix(http.MethodPost, "/collections/m/points/search", map[string]any{"vector": []float32{1}, "limit": 1}, http.StatusBadRequest, "Wrong input")
	r := s.do(http.MethodGet, "/metrics", nil)
	if r.code != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", r.code)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want text/plain (Prometheus text format)", ct)
	}
	text := string(r.body)
	for _, want := range []string{
		"# HELP app_info information about qdrant server",
		`app_info{name="shoal",version="1.19.0"} 1`,
		"# HELP collections_total number of collections",
		"collections_total 1",
		"# HELP collections_vector_total total number of vectors in all collections",
		"collections_vector_total 2",
		`collection_vectors{collection="m",vector=""} 2`,
		`collection_points{id="m"} 2`,
		`collection_running_optimizations{id="m"} 0`,
		"# HELP cluster_enabled is cluster support enabled",
		"cluster_enabled 0",
		"# HELP rest_responses_total total number of responses",
		"# TYPE rest_responses_total counter",
		`rest_responses_total{endpoint="/collections/{name}/points/search",method="POST",status="200"} 2`,
		`rest_responses_total{endpoint="/collections/{name}/points/search",method="POST",status="400"} 1`,
		`rest_responses_total{endpoint="/collections/{name}/points",method="PUT",status="200"} 1`,
		`rest_responses_fail_total{endpoint="/collections/{name}/points/search",method="POST",status="200"} 0`,
		"# TYPE rest_responses_avg_duration_seconds gauge",
		`rest_responses_duration_seconds_count{endpoint="/collections/{name}/points/search",method="POST",status="200"} 2`,
		`rest_responses_duration_seconds_bucket{endpoint="/collections/{name}/points/search",method="POST",status="200",le="+Inf"} 2`,
		"# HELP memory_resident_bytes Maximum number of bytes in physically resident data pages mapped",
		`shoal_http_requests_total{method="GET",route="GET /collections",status="200"} 1`,
		`shoal_build_info{commit="",qdrant_api="1.19.0",version="` + testVersion + `"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, absent := range []string{
		`endpoint="/collections"`,     // not in Qdrant's whitelist
		`endpoint="POST /collections`, // the method is a label of its own
		`rest_responses_avg_duration_seconds{endpoint="/collections/{name}/points/search",method="POST",status="400"}`,
	} {
		if strings.Contains(text, absent) {
			t.Errorf("metrics hold %q", absent)
		}
	}
	r = s.do(http.MethodGet, "/metrics?per_collection=true", nil)
	if want := `rest_responses_total{collection="m",endpoint="/collections/{name}/points/search",method="POST",status="200"} 2`; !strings.Contains(string(r.body), want) {
		t.Errorf("per_collection metrics lack %q", want)
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
	s.ok(http.MethodGet, "/telemetry?details_level=2", nil, &tel)
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
