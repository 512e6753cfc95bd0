package node

import (
	"context"
	"fmt"
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
// point, a config update, a deletion) and nothing of a step never begun.
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
		{"delete b", func(t *testing.T, n *Node) error { _, err := n.DeleteCollection(ctx, "b"); return err }},
	}
	// facts reads what the steps leave behind.
	type facts struct {
		collections []string
		points      uint64
		patched     bool
	}
	observe := func(n *Node) facts {
		f := facts{collections: n.Collections()}
		if c, err := n.Collection("a"); err == nil {
			if info, err := c.Info(); err == nil {
				f.points = info.PointsCount
				f.patched = info.Config.Metadata["patched"] == true
			}
		}
		return f
	}
	// want[i] holds after the first i steps.
	want := []facts{{}, {collections: []string{"a"}}, {collections: []string{"a", "b"}},
		{collections: []string{"a", "b"}, points: 1}, {collections: []string{"a", "b"}, points: 1, patched: true},
		{collections: []string{"a"}, points: 1, patched: true}}

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
			return slices.Equal(got.collections, w.collections) && got.points == w.points && got.patched == w.patched
		}
		if !ok(want[done]) && (done == len(steps) || !ok(want[done+1])) {
			fail("reopened with %+v; want %+v (or, for the step in flight, %+v)", got, want[done], want[min(done+1, len(steps))])
		}
		n.Close()
	}
	t.Logf("node: %d fsync points, %d crash points tried, %d states checked, %d violations", points, points+1, checked, violations)
}
