package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
	"github.com/shoaldb/shoal/internal/sysinfo"
)

type quotaStatus struct {
	Config map[string]any `json:"config"`
	Usage  struct {
		ResidentMemoryPercent *int `json:"resident_memory_percent"`
		DiskUsagePercent      *int `json:"disk_usage_percent"`
	} `json:"usage"`
	Peers map[string]any `json:"peers"`
}

// TestQuotas: GET/PUT /quotas as Qdrant 1.19 defines them. The quota is
// off by default; PUT validates (u8, then 1..=100), persists (a restart
// keeps it) and, once enabled with a disk limit the storage's file system
// is over, refuses writes that need room with Qdrant's message while
// deletes pass; disabling it lets writes through again.
func TestQuotas(t *testing.T) {
	dir := t.TempDir()
	used, total, ok := sysinfo.Disk(dir)
	if !ok || used*100/total < 1 {
		t.Skipf("the file system of %s is under 1%% full (%d/%d): no disk limit can trip", dir, used, total)
	}
	s := openServer(t, dir, rest.Options{})
	var st quotaStatus
	s.ok(http.MethodGet, "/quotas", nil, &st)
	assertJSON(t, "default config", st.Config, map[string]any{"enabled": false})
	if st.Usage.DiskUsagePercent == nil || *st.Usage.DiskUsagePercent < 1 || st.Usage.ResidentMemoryPercent == nil || st.Peers != nil {
		t.Fatalf("status %+v", st)
	}

	s.fail(http.MethodPut, "/quotas", map[string]any{"enabled": true, "max_disk_usage_percent": 101}, http.StatusUnprocessableEntity,
		"Validation error in JSON body: [max_disk_usage_percent: value 101 invalid, must be 100 or smaller]")
	s.fail(http.MethodPut, "/quotas", map[string]any{"enabled": true, "max_resident_memory_percent": 0}, http.StatusUnprocessableEntity,
		"Validation error in JSON body: [max_resident_memory_percent: value 0 invalid, must be 1 or larger]")
	s.failPrefix(http.MethodPut, "/quotas", map[string]any{"max_disk_usage_percent": 300}, http.StatusBadRequest, "Format error in JSON body: max_disk_usage_percent")
	s.failPrefix(http.MethodPut, "/quotas", map[string]any{"max_disk_usage_percent": 5.5}, http.StatusBadRequest, "Format error in JSON body")

	s.createCollection("q", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.upsert("q", pointIn{ID: 1, Vector: vec2})
	var done bool
	s.ok(http.MethodPut, "/quotas?wait=true", map[string]any{"enabled": true, "max_disk_usage_percent": 1}, &done)
	if !done {
		t.Fatal("PUT /quotas answered false")
	}
	msg := s.failPrefix(http.MethodPut, "/collections/q/points?wait=true", map[string]any{"points": []pointIn{{ID: 2, Vector: vec2}}},
		http.StatusBadRequest, "Bad request: Disk usage is at ")
	if !strings.HasSuffix(msg, "Help: Reduce disk usage (e.g. delete points or drop collections), or raise `max_disk_usage_percent` in the global quota config.") {
		t.Errorf("refusal %q", msg)
	}
	s.failPrefix(http.MethodPost, "/collections/q/points/payload?wait=true", map[string]any{"payload": map[string]any{"a": 1}, "points": []int{1}},
		http.StatusBadRequest, "Bad request: Disk usage is at ")
	s.write(http.MethodPost, "/collections/q/points/delete", map[string]any{"points": []int{1}})

	// A restart keeps the quota (and so keeps refusing).
	s.stop()
	s = openServer(t, dir, rest.Options{})
	s.ok(http.MethodGet, "/quotas", nil, &st)
	assertJSON(t, "config after a restart", st.Config, map[string]any{"enabled": true, "max_disk_usage_percent": 1})
	s.failPrefix(http.MethodPut, "/collections/q/points?wait=true", map[string]any{"points": []pointIn{{ID: 2, Vector: vec2}}},
		http.StatusBadRequest, "Bad request: Disk usage is at ")

	s.ok(http.MethodPut, "/quotas", map[string]any{"enabled": false, "max_disk_usage_percent": 1}, nil)
	s.upsert("q", pointIn{ID: 2, Vector: vec2})
}
