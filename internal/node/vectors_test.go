package node

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/testkit"
)

func denseVector(size uint64) *collection.VectorNameConfig {
	return &collection.VectorNameConfig{Dense: &collection.DenseVectorConfig{Size: size, Distance: collection.Dot}}
}

// TestConfigPatch: the merge patch from one configuration to another
// applies to the first to give the second, including a collection of one
// unnamed vector turned into one of named vectors and keys removed.
func TestConfigPatch(t *testing.T) {
	cur := createReq(t, `{"vectors":{"size":2,"distance":"Dot","on_disk":true},"sparse_vectors":{"s":{}},"optimizers_config":{"max_segment_size":5}}`)
	from, err := cur.Build(collection.QdrantDefaults())
	if err != nil {
		t.Fatal(err)
	}
	to, _, err := from.WithVector("b", denseVector(3))
	if err != nil {
		t.Fatal(err)
	}
	to, _, err = to.WithoutVector("s")
	if err != nil {
		t.Fatal(err)
	}
	to.OptimizerConfig.MaxSegmentSize = nil
	patch, err := configPatch(from, to)
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(patch, &p); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"wal_config", "hnsw_config"} {
		if _, ok := p[k]; ok {
			t.Fatalf("the patch touches %s, which did not change: %s", k, patch)
		}
	}
	raw, _ := json.Marshal(from)
	patched := mergeForTest(t, raw, patch)
	var got collection.Config
	if err := point.DecodeJSON(patched, &got); err != nil {
		t.Fatalf("decode patched %s: %v", patched, err)
	}
	a, _ := json.Marshal(&got)
	b, _ := json.Marshal(to)
	if string(a) != string(b) {
		t.Fatalf("patched:\n%s\nwant:\n%s\npatch %s", a, b, patch)
	}
	if same, err := configPatch(to, to); err != nil || string(same) != "{}" {
		t.Fatalf("patch of no change: %s %v", same, err)
	}
}

// mergeForTest applies an RFC 7396 merge patch (the cluster state's).
func mergeForTest(t *testing.T, target, patch []byte) []byte {
	t.Helper()
	var tv, pv any
	if err := json.Unmarshal(target, &tv); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(patch, &pv); err != nil {
		t.Fatal(err)
	}
	var merge func(t, p any) any
	merge = func(t, p any) any {
		po, ok := p.(map[string]any)
		if !ok {
			return p
		}
		to, ok := t.(map[string]any)
		if !ok {
			to = map[string]any{}
		}
		for k, v := range po {
			if v == nil {
				delete(to, k)
				continue
			}
			to[k] = merge(to[k], v)
		}
		return to
	}
	out, err := json.Marshal(merge(tv, pv))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVectorNamesStandalone: named vectors added and dropped through the
// node survive a restart with the points' vectors; the changes of two
// callers at once keep both.
func TestVectorNamesStandalone(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, dir)
	ctx := context.Background()
	if err := n.CreateCollection(ctx, "c", createReq(t, `{"vectors":{"a":{"size":2,"distance":"Dot"}}}`)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	for _, name := range []string{"x", "y"} {
		go func() { done <- n.CreateVectorName(ctx, "c", name, denseVector(2)) }()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	c, _ := n.Collection("c")
	op := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(1), Vectors: point.Vectors{"a": {1, 1}, "x": {2, 2}, "y": {3, 3}}}}}
	if _, err := c.Update(ctx, op, true); err != nil {
		t.Fatal(err)
	}
	if err := n.DeleteVectorName(ctx, "c", "y"); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = openNode(t, dir)
	c, _ = n.Collection("c")
	cfg, _ := c.Config()
	if got := cfg.Params.Vectors.Names(); !slices.Equal(got, []string{"a", "x"}) {
		t.Fatalf("vectors after a restart: %v", got)
	}
	recs, err := c.Retrieve(ctx, []point.ID{point.NumID(1)}, ops.PayloadSelector{}, ops.VectorSelector{Enable: true})
	if err != nil || len(recs) != 1 || len(recs[0].Vectors) != 2 || recs[0].Vectors["x"][0] != 2 {
		t.Fatalf("point 1 after a restart: %+v %v", recs, err)
	}
	if err := n.CreateVectorName(ctx, "nope", "x", denseVector(2)); point.KindOf(err) != point.KindNotFound {
		t.Fatalf("a missing collection: %v", err)
	}
}

// TestClusterVectorNames: a named vector added or dropped through any
// peer is added or dropped on every peer (its configuration and its
// shard: points with it are taken everywhere); two peers adding a vector
// each at once keep both.
func TestClusterVectorNames(t *testing.T) {
	net := newMemNet()
	ctx := context.Background()
	p1 := startPeer(t, net, 1, t.TempDir(), true)
	testkit.WaitFor(t, "first peer leads", 20*time.Second, func() bool { return p1.cons.Status().Role == "Leader" })
	peers := []*clusterPeer{p1}
	for id := uint64(2); id <= 3; id++ {
		p := startPeer(t, net, id, t.TempDir(), false)
		if _, _, err := p1.node.AddPeer(ctx, id, fmt.Sprintf("http://peer-%d:6335", id)); err != nil {
			t.Fatal(err)
		}
		testkit.WaitFor(t, "a voter", 20*time.Second, func() bool { return p.cons.Status().IsVoter })
		peers = append(peers, p)
	}
	if err := peers[2].node.CreateCollection(ctx, "docs", createReq(t, `{"vectors":{"size":2,"distance":"Dot"}}`)); err != nil {
		t.Fatal(err)
	}
	waitActive(t, "docs", nodesOf(peers)...)
	everywhere := func(what string, cond func(c *collection.Collection) bool) {
		t.Helper()
		testkit.WaitFor(t, what, 20*time.Second, func() bool {
			for _, p := range peers {
				c, err := p.node.Collection("docs")
				if err != nil || !cond(c) {
					return false
				}
			}
			return true
		})
	}
	names := func(c *collection.Collection) string {
		cfg, _ := c.Config()
		b, _ := json.Marshal(map[string]any{"dense": cfg.Params.Vectors.Names(), "sparse": cfg.Params.SparseVectors})
		return string(b)
	}
	done := make(chan error, 2)
	go func() { done <- peers[1].node.CreateVectorName(ctx, "docs", "x", denseVector(3)) }()
	go func() {
		done <- peers[2].node.CreateVectorName(ctx, "docs", "s", &collection.VectorNameConfig{Sparse: &collection.SparseVectorConfig{}})
	}()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	everywhere("x and s on every peer", func(c *collection.Collection) bool {
		return names(c) == `{"dense":["","x"],"sparse":{"s":{}}}`
	})
	for _, p := range peers {
		c, _ := p.node.Collection("docs")
		op := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(p.id), Vectors: point.Vectors{"": {1, 2}, "x": {1, 2, 3}},
			Sparse: point.SparseVectors{"s": {Indices: []uint32{1}, Values: []float32{1}}}}}}
		if _, err := c.Update(ctx, op, true); err != nil {
			t.Fatalf("peer %d: a point with the new vectors: %v", p.id, err)
		}
	}
	if err := p1.node.DeleteVectorName(ctx, "docs", "x"); err != nil {
		t.Fatal(err)
	}
	everywhere("x dropped on every peer", func(c *collection.Collection) bool {
		recs, _, err := c.Scroll(ctx, ops.ScrollRequest{Limit: 10, WithVector: ops.VectorSelector{Enable: true}})
		if err != nil || len(recs) != len(peers) { // a point written through each peer
			return false
		}
		for _, r := range recs {
			if _, hasX := r.Vectors["x"]; hasX {
				return false
			}
		}
		return names(c) == `{"dense":[""],"sparse":{"s":{}}}`
	})
}
