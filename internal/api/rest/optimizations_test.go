package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/api/rest"
	"github.com/shoaldb/shoal/internal/testkit"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

type optimizationsOut struct {
	Summary struct {
		QueuedOptimizations int `json:"queued_optimizations"`
		QueuedSegments      int `json:"queued_segments"`
		QueuedPoints        int `json:"queued_points"`
		IdleSegments        int `json:"idle_segments"`
	} `json:"summary"`
	Running []optimizationOut `json:"running"`
	Queued  *[]struct {
		Optimizer string       `json:"optimizer"`
		Segments  []segmentRef `json:"segments"`
	} `json:"queued"`
	Completed    *[]optimizationOut `json:"completed"`
	IdleSegments *[]segmentRef      `json:"idle_segments"`
}

type optimizationOut struct {
	UUID      string          `json:"uuid"`
	Optimizer string          `json:"optimizer"`
	Status    json.RawMessage `json:"status"`
	Segments  []segmentRef    `json:"segments"`
	Progress  struct {
		Name        string   `json:"name"`
		StartedAt   *string  `json:"started_at"`
		FinishedAt  *string  `json:"finished_at"`
		DurationSec *float64 `json:"duration_sec"`
	} `json:"progress"`
}

type segmentRef struct {
	UUID        string `json:"uuid"`
	PointsCount int    `json:"points_count"`
}

// TestOptimizationsIdle is Qdrant's test_optimizations.py: a small
// collection has nothing running; the optional parts appear only when
// asked for (spaces around the names allowed), and an unknown one is bad
// input.
func TestOptimizationsIdle(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("o", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.upsert("o", pointIn{ID: 1, Vector: vec2}, pointIn{ID: 2, Vector: vec2})
	var raw map[string]json.RawMessage
	s.ok(http.MethodGet, "/collections/o/optimizations", nil, &raw)
	for _, k := range []string{"queued", "completed", "idle_segments"} {
		if _, ok := raw[k]; ok {
			t.Errorf("%s present without ?with=", k)
		}
	}
	if string(raw["running"]) != "[]" {
		t.Errorf("running %s, want []", raw["running"])
	}
	for _, with := range []string{"queued,completed,idle_segments", "queued ,  completed  , idle_segments"} {
		var o optimizationsOut
		s.ok(http.MethodGet, "/collections/o/optimizations?with="+urlQuery(with), nil, &o)
		if o.Queued == nil || len(*o.Queued) != 0 || o.Completed == nil || len(*o.Completed) != 0 || o.IdleSegments == nil || len(*o.IdleSegments) == 0 {
			t.Fatalf("with=%q: %+v", with, o)
		}
		if o.Summary.IdleSegments != len(*o.IdleSegments) || o.Summary.QueuedOptimizations != 0 {
			t.Errorf("summary %+v", o.Summary)
		}
		points := 0
		for _, g := range *o.IdleSegments {
			points += g.PointsCount
			if !uuidRE.MatchString(g.UUID) {
				t.Errorf("segment uuid %q", g.UUID)
			}
		}
		if points != 2 {
			t.Errorf("idle segments hold %d points, want 2", points)
		}
	}
	s.fail(http.MethodGet, "/collections/o/optimizations?with=queued,everything", nil, http.StatusBadRequest,
		"Wrong input: Unknown field in 'with' parameter: everything")
	s.fail(http.MethodGet, "/collections/nope/optimizations", nil, http.StatusNotFound, "Not found: Collection `nope` doesn't exist!")
}

// TestOptimizationsQueuedAndCompleted: with the optimizer stopped
// (max_optimization_threads 0) the due indexing is queued with its
// segment and points; once allowed to run it is completed, newest first,
// with the segment it rebuilt, and completed_limit bounds the list.
func TestOptimizationsQueuedAndCompleted(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("q", map[string]any{
		"vectors":           map[string]any{"size": 4, "distance": "Euclid"},
		"hnsw_config":       map[string]any{"m": 8, "ef_construct": 32},
		"optimizers_config": map[string]any{"indexing_threshold": 1, "default_segment_number": 1, "max_optimization_threads": 0},
	})
	var pts []pointIn
	for i := range 200 {
		pts = append(pts, pointIn{ID: i, Vector: []float32{float32(i), 1, 2, 3}})
	}
	s.upsert("q", pts...)
	var o optimizationsOut
	s.ok(http.MethodGet, "/collections/q/optimizations?with=queued,idle_segments,completed", nil, &o)
	if o.Queued == nil || len(*o.Queued) != 1 || (*o.Queued)[0].Optimizer != "indexing" {
		t.Fatalf("queued %+v, want one indexing", o.Queued)
	}
	q := (*o.Queued)[0]
	if len(q.Segments) != 1 || q.Segments[0].PointsCount != 200 {
		t.Fatalf("queued segments %+v, want one of 200 points", q.Segments)
	}
	if o.Summary.QueuedOptimizations != 1 || o.Summary.QueuedSegments != 1 || o.Summary.QueuedPoints != 200 {
		t.Errorf("summary %+v", o.Summary)
	}
	for _, g := range *o.IdleSegments {
		if g.UUID == q.Segments[0].UUID {
			t.Errorf("queued segment %s also idle", g.UUID)
		}
	}

	s.ok(http.MethodPatch, "/collections/q", map[string]any{"optimizers_config": map[string]any{"max_optimization_threads": 1}}, nil)
	testkit.Eventually(t, "indexing completed", 30*time.Second, func() error {
		s.ok(http.MethodGet, "/collections/q/optimizations?with=completed,queued", nil, &o)
		if o.Completed == nil || len(*o.Completed) == 0 || len(o.Running) > 0 || len(*o.Queued) > 0 {
			return errorf("running %d, completed %v", len(o.Running), o.Completed)
		}
		return nil
	})
	done := (*o.Completed)[0]
	if done.Optimizer != "indexing" || string(done.Status) != `"done"` || !uuidRE.MatchString(done.UUID) {
		t.Fatalf("completed %+v", done)
	}
	if len(done.Segments) != 1 || done.Segments[0].UUID != q.Segments[0].UUID || done.Segments[0].PointsCount != 200 {
		t.Errorf("completed segments %+v, want the queued one", done.Segments)
	}
	p := done.Progress
	if p.Name != "indexing" || p.StartedAt == nil || p.FinishedAt == nil || p.DurationSec == nil || *p.DurationSec < 0 {
		t.Errorf("progress %+v", p)
	}
	var idle optimizationsOut
	s.ok(http.MethodGet, "/collections/q/optimizations?with=idle_segments", nil, &idle)
	found := false
	for _, g := range *idle.IdleSegments {
		found = found || g.UUID == done.UUID && g.PointsCount == 200
	}
	if !found {
		t.Errorf("the built segment %s is not among the idle ones %+v", done.UUID, *idle.IdleSegments)
	}
	s.ok(http.MethodGet, "/collections/q/optimizations?with=completed&completed_limit=0", nil, &o)
	if o.Completed == nil || len(*o.Completed) != 0 {
		t.Errorf("completed_limit=0: %+v", o.Completed)
	}
}

func urlQuery(s string) string { return url.QueryEscape(s) }

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
