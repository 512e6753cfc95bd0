package node

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vfs/vfstest"
)

// TestNodeCrashPoints runs a node's metadata and data steps on an
// in-memory file system (node.Options.FS), crashes at every fsync in turn,
// and reopens the node on what survived: it must open, and hold every step
// that returned (a created collection with its config, an acknowledged
// point, a config update, a named vector added, written, dropped and added
// again as the other kind, a deletion) and nothing of a step never begun;
// and its shard must have the vectors its configuration has (a crash
// between the configuration's save and the shard's operation included).
func TestNodeCrashPoints(t *testing.T) {
	const root = "/node"
	ctx := context.Background()
	var patch collection.UpdateRequest
	if err := point.DecodeJSON([]byte(`{"metadata":{"patched":true}}`), &patch); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func(t *testing.T, n *Node) error
	}{
		{"create a", func(t *testing.T, n *Node) error { return n.CreateCollection(ctx, "a", createReq(t, vec4)) }},
		{"create b", func(t *testing.T, n *Node) error { return n.CreateCollection(ctx, "b", createReq(t, vec4)) }},
		{"upsert into a", func(t *testing.T, n *Node) error {
			c, err := n.Collection("a")
			if err != nil {
				return err
			}
			op := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(1), Vectors: point.Vectors{"": {1, 2, 3, 4}}}}}
			_, err = c.Update(ctx, op, true)
			return err
		}},
		{"patch a", func(t *testing.T, n *Node) error { return n.UpdateCollection(ctx, "a", &patch) }},
		{"add x to a", func(t *testing.T, n *Node) error {
			return n.CreateVectorName(ctx, "a", "x", &collection.VectorNameConfig{Dense: &collection.DenseVectorConfig{Size: 2, Distance: collection.Dot}})
		}},
		{"upsert x into a", func(t *testing.T, n *Node) error {
			c, err := n.Collection("a")
			if err != nil {
				return err
			}
			op := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(2), Vectors: point.Vectors{"": {1, 2, 3, 4}, "x": {5, 6}}}}}
			_, err = c.Update(ctx, op, true)
			return err
		}},
		{"drop x from a", func(t *testing.T, n *Node) error { return n.DeleteVectorName(ctx, "a", "x") }},
		{"add x to a as a sparse vector", func(t *testing.T, n *Node) error {
			return n.CreateVectorName(ctx, "a", "x", &collection.VectorNameConfig{Sparse: &collection.SparseVectorConfig{}})
		}},
		{"delete b", func(t *testing.T, n *Node) error { _, err := n.DeleteCollection(ctx, "b"); return err }},
	}
	// facts reads what the steps leave behind.
	type facts struct {
		collections []string
		points      uint64
		patched     bool
		vectors     string // a's configured vectors: dense | sparse
		hasX        bool   // point 2 has a vector x
	}
	observe := func(n *Node) facts {
		f := facts{collections: n.Collections()}
		if c, err := n.Collection("a"); err == nil {
			if info, err := c.Info(); err == nil {
				f.points = info.PointsCount
				f.patched = info.Config.Metadata["patched"] == true
				f.vectors = fmt.Sprint(info.Config.Params.Vectors.Names(), slices.Sorted(maps.Keys(info.Config.Params.SparseVectors)))
			}
			if recs, err := c.Retrieve(ctx, []point.ID{point.NumID(2)}, ops.PayloadSelector{}, ops.VectorSelector{Enable: true}); err == nil && len(recs) == 1 {
				_, dense := recs[0].Vectors["x"]
				_, sparse := recs[0].Sparse["x"]
				f.hasX = dense || sparse
			}
		}
		return f
	}
	// shardAgrees checks that a's shard has the vectors a's configuration
	// has: a point with every one of them is taken, and the segments have
	// no other dense vector.
	shardAgrees := func(n *Node) string {
		c, err := n.Collection("a")
		if err != nil {
			return ""
		}
		cfg, _ := c.Config()
		p := ops.PointStruct{ID: point.NumID(99), Vectors: point.Vectors{}, Sparse: point.SparseVectors{}}
		for name, vp := range cfg.Params.Vectors.Named {
			p.Vectors[name] = make([]float32, vp.Size)
		}
		for name := range cfg.Params.SparseVectors {
			p.Sparse[name] = point.SparseVector{Indices: []uint32{1}, Values: []float32{1}}
		}
		if _, err := c.Update(ctx, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{p}}, true); err != nil {
			return fmt.Sprintf("a point with every configured vector: %v", err)
		}
		for _, seg := range c.Telemetry().Shards[0].Local.Segments {
			for name := range seg.Info.VectorData {
				if _, ok := cfg.Params.Vectors.Named[name]; !ok {
					return fmt.Sprintf("a segment has vector %q, the configuration does not", name)
				}
			}
		}
		return ""
	}
	// want[i] holds after the first i steps.
	both := []string{"a", "b"}
	want := []facts{{}, {collections: []string{"a"}, vectors: "[] []"}, {collections: both, vectors: "[] []"},
		{collections: both, points: 1, vectors: "[] []"}, {collections: both, points: 1, patched: true, vectors: "[] []"},
		{collections: both, points: 1, patched: true, vectors: "[ x] []"},
		{collections: both, points: 2, patched: true, vectors: "[ x] []", hasX: true},
		{collections: both, points: 2, patched: true, vectors: "[] []"},
		{collections: both, points: 2, patched: true, vectors: "[] [x]"},
		{collections: []string{"a"}, points: 2, patched: true, vectors: "[] [x]"}}

	run := func(fsys *vfstest.FaultFS) int {
		opts := testOptions(root)
		opts.FS = fsys
		n, err := Open(opts)
		if err != nil {
			return 0
		}
		defer n.Close()
		for i, s := range steps {
			if err := s.do(t, n); err != nil {
				return i
			}
		}
		return len(steps)
	}
	count := vfstest.Wrap(vfstest.NewMem())
	if done := run(count); done != len(steps) {
		t.Fatalf("the steps fail without faults after %d", done)
	}
	points := count.Syncs()

	checked, violations := 0, 0
	for k := 0; k <= points; k++ {
		mem := vfstest.NewMem()
		fsys := vfstest.Wrap(mem)
		var clone *vfstest.MemFS
		at := "(after the steps)"
		fsys.CrashAtSync(k, func(path string) { clone, at = mem.CrashClone(), path })
		done := run(fsys)
		if clone == nil {
			clone = mem.CrashClone()
		}
		fail := func(format string, args ...any) {
			t.Helper()
			violations++
			t.Errorf("crash at fsync %d (%s; %d steps returned): %s", k, at, done, fmt.Sprintf(format, args...))
		}
		opts := testOptions(root)
		opts.FS = clone
		n, err := Open(opts)
		if err != nil {
			fail("reopen: %v", err)
			continue
		}
		got := observe(n)
		checked++
		ok := func(w facts) bool {
			return slices.Equal(got.collections, w.collections) && got.points == w.points && got.patched == w.patched &&
				got.vectors == w.vectors && got.hasX == w.hasX
		}
		if !ok(want[done]) && (done == len(steps) || !ok(want[done+1])) {
			fail("reopened with %+v; want %+v (or, for the step in flight, %+v)", got, want[done], want[min(done+1, len(steps))])
		}
		if msg := shardAgrees(n); msg != "" {
			fail("%s", msg)
		}
		n.Close()
	}
	t.Logf("node: %d fsync points, %d crash points tried, %d states checked, %d violations", points, points+1, checked, violations)
}
