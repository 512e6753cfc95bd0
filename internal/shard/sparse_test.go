package shard

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/testkit"
	"github.com/shoaldb/shoal/internal/vector"
)

// sparseQueries are the queries sparseIndexesAgree asks.
var sparseQueries = []point.SparseVector{
	{Indices: []uint32{0, 1, 2, 9}, Values: []float32{1, -1, 2, 0.5}},
	{Indices: []uint32{3, 4}, Values: []float32{1, 1}},
	{Indices: []uint32{0, 2}, Values: []float32{2, -3}},
}

// sparseIndexesAgree searches every sparse vector of the shard through its
// indexes and exactly, and describes the first difference ("" when none):
// an index that survived a crash must answer as the vectors do.
func sparseIndexesAgree(sh *Shard) string {
	var msg string
	sh.View(func(r *Reader) {
		for name := range r.h.sparse {
			for _, q := range sparseQueries {
				p := segment.SparseSearchParams{Vector: name, Query: q, Limit: 1000}
				idx, err1 := r.SearchSparse(context.Background(), p, nil)
				p.Exact = true
				ex, err2 := r.SearchSparse(context.Background(), p, nil)
				if err1 != nil || err2 != nil {
					msg = fmt.Sprintf("sparse search: %v %v", err1, err2)
					return
				}
				if a, b := hitList(idx), hitList(ex); a != b {
					msg = fmt.Sprintf("sparse %q %v: indexes answer %s, the vectors %s", name, q, a, b)
					return
				}
			}
		}
	})
	return msg
}

func hitList(hits []Hit) string {
	s := ""
	for _, h := range hits {
		s += fmt.Sprintf(" %s:%v", h.ID, h.Score)
	}
	return s
}

func sparseOptions() Options {
	o := testOptions()
	o.Vectors = map[string]segment.VectorSpec{"": {Dim: 2, Distance: vector.Dot}}
	o.VectorIndex = nil
	o.Sparse = map[string]segment.SparseSpec{"s": {}, "m": {OnDisk: true}}
	o.Optimizer = OptimizerParams{DefaultSegmentNumber: 1, SparseIndexingBytes: 8 * 400, DeletedThreshold: 0.2, VacuumMinVectorNumber: 1000}
	return o
}

// sparseIndexed lists, per segment, whether it is appendable and which
// sparse vectors it has an index of, and whether those are mapped.
func sparseIndexed(sh *Shard) string {
	out := ""
	sh.View(func(r *Reader) {
		for _, g := range r.h.segs {
			_, mapped := g.store.SparseIndexBytes()
			out += fmt.Sprintf("[appendable %v %v files %d mapped %v]", g.appendable, g.store.SparseIndexed(), len(g.sparseFiles), mapped > 0)
		}
	})
	return out
}

// TestShardSparseIndexes: points with sparse vectors pass the indexing
// threshold, the optimizer seals them into a segment with an inverted index
// per sparse vector (one mapped from its file), searches through them agree
// with the vectors, updates of sealed points move them out, and a restart
// opens the index files instead of rebuilding them.
func TestShardSparseIndexes(t *testing.T) {
	r := newRand(t, testSeed(t))
	dir := filepath.Join(t.TempDir(), "shard")
	sh := startShard(t, dir, sparseOptions())
	ctx := context.Background()
	for b := range 10 {
		op := &ops.Operation{Kind: ops.Upsert}
		for i := range 50 {
			id := uint64(b*50 + i)
			sp := point.SparseVectors{"s": randomSparse(r, 12, 1+r.IntN(6))}
			if id%3 == 0 {
				sp["m"] = randomSparse(r, 12, r.IntN(4))
			}
			op.Points = append(op.Points, ops.PointStruct{ID: point.NumID(id), Vectors: point.Vectors{"": {1, float32(i)}}, Sparse: sp})
		}
		if _, err := sh.Update(ctx, op, true); err != nil {
			t.Fatal(err)
		}
	}
	testkit.WaitFor(t, "a sealed segment with sparse indexes", 20*time.Second, func() bool {
		s := sparseIndexed(sh)
		return idle(sh) && s != "" && !strings.Contains(s, "appendable true [m s]") && strings.Contains(s, "[m s] files 2 mapped true")
	})
	if msg := sparseIndexesAgree(sh); msg != "" {
		t.Fatal(msg)
	}
	// Sealed points move out when their vectors change.
	if _, err := sh.Update(ctx, &ops.Operation{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{{ID: point.NumID(3),
		Sparse: point.SparseVectors{"s": {Indices: []uint32{1}, Values: []float32{100}}}}}}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := sh.Update(ctx, &ops.Operation{Kind: ops.DeleteVectors, IDs: []point.ID{point.NumID(6)}, Keys: []string{"m"}}, true); err != nil {
		t.Fatal(err)
	}
	var top []Hit
	sh.View(func(rd *Reader) {
		top, _ = rd.SearchSparse(ctx, segment.SparseSearchParams{Vector: "s", Query: point.SparseVector{Indices: []uint32{1}, Values: []float32{1}}, Limit: 1}, nil)
		if _, ok := rd.SparseVector(point.NumID(6), "m"); ok {
			t.Error("point 6 kept its deleted sparse vector")
		}
	})
	if len(top) != 1 || top[0].ID != point.NumID(3) || top[0].Score != 100 {
		t.Fatalf("after update_vectors: %v", top)
	}
	if msg := sparseIndexesAgree(sh); msg != "" {
		t.Fatal(msg)
	}
	before := state(sh)
	layout := sparseIndexed(sh)
	t.Logf("segments: %s", layout)
	if err := sh.Close(); err != nil {
		t.Fatal(err)
	}
	re := startShard(t, dir, sparseOptions())
	if d := diffStates(before, state(re)); d != "" {
		t.Fatalf("reopened:%s", d)
	}
	if got := sparseIndexed(re); got != layout {
		t.Fatalf("indexes after reopen %s, before %s", got, layout)
	}
	if msg := sparseIndexesAgree(re); msg != "" {
		t.Fatal(msg)
	}
}

func randomSparse(r *rand.Rand, dims, nnz int) point.SparseVector {
	seen := map[uint32]bool{}
	v := point.SparseVector{Indices: []uint32{}, Values: []float32{}}
	for len(v.Indices) < min(nnz, dims) {
		d := uint32(r.IntN(dims))
		if !seen[d] {
			seen[d] = true
			v.Indices = append(v.Indices, d)
			v.Values = append(v.Values, float32(r.IntN(9)-3))
		}
	}
	return v
}

// TestShardSparseSettingsChange: new index settings (datatype, on disk)
// make the optimizer rebuild the sealed segment's indexes with them; a
// sparse vector added by create_vector_name is there for new points, and
// takes the settings.
func TestShardSparseSettingsChange(t *testing.T) {
	r := newRand(t, testSeed(t))
	dir := filepath.Join(t.TempDir(), "shard")
	sh := startShard(t, dir, sparseOptions())
	op := &ops.Operation{Kind: ops.Upsert}
	for i := range 300 {
		op.Points = append(op.Points, ops.PointStruct{ID: point.NumID(uint64(i)), Sparse: point.SparseVectors{
			"s": randomSparse(r, 12, 1+r.IntN(5)), "m": randomSparse(r, 12, 1+r.IntN(5))}})
	}
	if _, err := sh.Update(context.Background(), op, true); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "sealed with indexes", 20*time.Second, func() bool {
		return idle(sh) && strings.Contains(sparseIndexed(sh), "[m s] files 2 mapped true")
	})
	datatypes := func() string {
		out := ""
		sh.View(func(rd *Reader) {
			for _, g := range rd.h.segs {
				if !g.appendable {
					built, match := g.store.SparseIndexMatches("s")
					out += fmt.Sprintf("[s built %v matches %v]", built, match)
				}
			}
		})
		return out
	}
	create := &ops.Operation{Kind: ops.CreateVectorName, Key: "new", VectorConfig: &ops.VectorNameConfig{Sparse: &ops.SparseVectorConfig{}}}
	if _, err := sh.Update(context.Background(), create, true); err != nil {
		t.Fatal(err)
	}
	sh.SetSparse(map[string]segment.SparseSpec{"s": {Datatype: 2, OnDisk: true}, "m": {}, "new": {}, "unknown": {}})
	testkit.WaitFor(t, "the indexes rebuilt with the new settings", 20*time.Second, func() bool {
		return idle(sh) && datatypes() == "[s built true matches true]" && strings.Contains(sparseIndexed(sh), "[m new s]")
	})
	if _, err := sh.Update(context.Background(), &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(1000),
		Sparse: point.SparseVectors{"new": {Indices: []uint32{1}, Values: []float32{1}}}}}}, true); err != nil {
		t.Fatalf("a point with the added sparse vector: %v", err)
	}
}
