package collection

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/testkit"
)

// normalizedSubs normalises each sub-vector of a flat multivector, as the
// oracle's Cosine needs.
func normalizedSubs(v []float32, dim int) []float64 {
	out := make([]float64, len(v))
	for i := 0; i < len(v); i += dim {
		var n float64
		for _, x := range v[i : i+dim] {
			n += float64(x) * float64(x)
		}
		n = math.Sqrt(n)
		for j := i; j < i+dim; j++ {
			if n > 0 {
				out[j] = float64(v[j]) / n
			}
		}
	}
	return out
}

// cosineMaxSim is max_sim of Cosine by its definition: the sum over the
// query's sub-vectors of their greatest cosine with a point's sub-vector,
// from the vectors as the client gave them.
func cosineMaxSim(q, v []float32, dim int) float64 {
	nq, nv := normalizedSubs(q, dim), normalizedSubs(v, dim)
	var sum float64
	for i := 0; i < len(nq); i += dim {
		best := math.Inf(-1)
		for j := 0; j < len(nv); j += dim {
			var dot float64
			for k := range dim {
				dot += nq[i+k] * nv[j+k]
			}
			best = max(best, dot)
		}
		sum += best
	}
	return sum
}

// TestMultivectorSearch: a collection of multivectors (Cosine, given
// unnormalised, 1 to 6 sub-vectors a point) in sealed indexed segments and
// an appendable one answers exact searches as the max_sim oracle ranks the
// points the client wrote, under a filter too, with plain-vector and
// multivector queries; its HNSW searches find at least 90% of the exact
// top 10. Seeded; the seed is logged.
func TestMultivectorSearch(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	const dim, n = 8, 600
	c, _ := openCollection(t, `{"vectors":{"m":{"size":8,"distance":"Cosine","multivector_config":{"comparator":"max_sim"}},"d":{"size":2,"distance":"Dot"}},
		"hnsw_config":{"m":16,"ef_construct":64,"full_scan_threshold":10},
		"optimizers_config":{"indexing_threshold":1,"default_segment_number":2}}`)
	written := map[point.ID][]float32{}
	tag := map[point.ID]int{}
	mk := func(id int) ops.PointStruct {
		v := make([]float32, (1+r.IntN(6))*dim)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		pid := point.NumID(uint64(id))
		written[pid] = v
		tag[pid] = r.IntN(4)
		return ops.PointStruct{ID: pid, Vectors: point.Vectors{"m": slices.Clone(v), "d": {1, 2}}, Payload: point.Payload{"tag": tag[pid]}}
	}
	var pts []ops.PointStruct
	for i := range n {
		pts = append(pts, mk(i))
		if len(pts) == 100 {
			upsert(t, c, pts...)
			pts = pts[:0]
		}
	}
	testkit.WaitFor(t, "the optimizer to index the points", 30*time.Second, func() bool {
		info, err := c.Info()
		return err == nil && info.Status == "green" && info.IndexedVectorsCount > 0
	})
	for i := range 40 { // an appendable segment as well
		pts = append(pts, mk(n+i))
	}
	upsert(t, c, pts...)

	recs := must(c.Retrieve(bg, []point.ID{point.NumID(7)}, ops.PayloadSelector{}, ops.VectorSelector{Enable: true}))
	if got, want := recs[0].Vectors["m"], normalizedSubs(written[point.NumID(7)], dim); len(got) != len(want) {
		t.Fatalf("point 7 has %d floats, wrote %d", len(got), len(want))
	} else {
		for i := range got {
			if math.Abs(float64(got[i])-want[i]) > 1e-6 {
				t.Fatalf("point 7 reads %v, want each sub-vector normalised: %v", got, want)
			}
		}
	}

	found, total := 0, 0
	for qn := range 30 {
		q := make([]float32, (1+qn%4)*dim)
		for i := range q {
			q[i] = float32(r.NormFloat64())
		}
		var flt string
		if qn%3 == 0 {
			flt = `{"must":[{"key":"tag","match":{"value":1}}]}`
		}
		req := ops.SearchRequest{Using: "m", Vector: slices.Clone(q), Limit: 10, Params: ops.SearchParams{Exact: true}}
		if flt != "" {
			req.Filter = mustFilter(t, flt)
		}
		exact := must(c.Search(bg, req))
		type scored struct {
			id    point.ID
			score float64
		}
		var want []scored
		for id, v := range written {
			if flt == "" || tag[id] == 1 {
				want = append(want, scored{id, cosineMaxSim(q, v, dim)})
			}
		}
		slices.SortFunc(want, func(a, b scored) int {
			if a.score != b.score {
				if a.score > b.score {
					return -1
				}
				return 1
			}
			return a.id.Compare(b.id)
		})
		if len(exact) != min(10, len(want)) {
			t.Fatalf("query %d: %d hits, want %d", qn, len(exact), min(10, len(want)))
		}
		for i, h := range exact {
			w := want[i]
			if math.Abs(float64(h.Score)-w.score) > 1e-4 {
				t.Fatalf("query %d, hit %d: %v scores %v, oracle ranks %v first with %v", qn, i, h.ID, h.Score, w.id, w.score)
			}
			if h.ID != w.id && math.Abs(want[i].score-cosineMaxSim(q, written[h.ID], dim)) > 1e-4 {
				t.Fatalf("query %d, hit %d: %v, oracle %v", qn, i, h.ID, w.id)
			}
		}
		req.Params = ops.SearchParams{HnswEf: 40} // below the segments' sizes: a graph walk
		approx := must(c.Search(bg, req))
		in := map[point.ID]bool{}
		for _, h := range exact {
			in[h.ID] = true
		}
		for _, h := range approx {
			if in[h.ID] {
				found++
			}
		}
		total += len(exact)
	}
	if recall := float64(found) / float64(total); recall < 0.9 {
		t.Fatalf("HNSW recall@10 = %.3f, want at least 0.9", recall)
	} else {
		t.Logf("HNSW recall@10 %.3f", recall)
	}
}

// TestMultivectorShapes: a multivector is any positive multiple of its
// size, a plain vector of the size is one sub-vector (as Qdrant's legacy
// API allows), anything else is Qdrant's dimension error, for writes and
// queries; a multivector on a plain vector is refused as one of the
// wrong size.
func TestMultivectorShapes(t *testing.T) {
	c, _ := openCollection(t, `{"vectors":{"m":{"size":2,"distance":"Dot","multivector_config":{"comparator":"max_sim"}},"d":{"size":2,"distance":"Dot"}}}`)
	up := func(name string, v []float32) error {
		_, err := c.Update(bg, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(1), Vectors: point.Vectors{name: v}}}}, true)
		return err
	}
	query := func(name string, v []float32) error {
		_, err := c.Search(bg, ops.SearchRequest{Using: name, Vector: v, Limit: 3})
		return err
	}
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"three sub-vectors", func() error { return up("m", []float32{1, 2, 3, 4, 5, 6}) }, ""},
		{"one sub-vector", func() error { return up("m", []float32{1, 2}) }, ""},
		{"empty", func() error { return up("m", nil) }, "Vector dimension error: expected dim: 2, got 0"},
		{"not a multiple", func() error { return up("m", []float32{1, 2, 3}) }, "Vector dimension error: expected dim: 2, got 3"},
		{"a multivector on a plain vector", func() error { return up("d", []float32{1, 2, 3, 4}) }, "Vector dimension error: expected dim: 2, got 4"},
		{"not finite", func() error { return up("m", []float32{1, 2, float32(math.Inf(1)), 0}) }, "only finite numbers"},
		{"plain query", func() error { return query("m", []float32{1, 2}) }, ""},
		{"multivector query", func() error { return query("m", []float32{1, 2, 3, 4}) }, ""},
		{"query not a multiple", func() error { return query("m", []float32{1, 2, 3}) }, "Vector dimension error: expected dim: 2, got 3"},
		{"empty query", func() error { return query("m", []float32{}) }, "Vector dimension error: expected dim: 2, got 0"},
	} {
		err := tc.run()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || point.KindOf(err) != point.KindBadInput):
			t.Errorf("%s: %v, want bad input %q", tc.name, err, tc.want)
		}
	}
	// The last write that passed holds: [1 2], one sub-vector.
	hits := must(c.Search(bg, ops.SearchRequest{Using: "m", Vector: []float32{1, 0}, Limit: 3}))
	if len(hits) != 1 || hits[0].Score != 1 {
		t.Fatalf("hits %+v, want point 1 scoring 1 (its one sub-vector [1 2])", hits)
	}
}

// TestStrictModeMultivector: multivector_config.max_vectors refuses an
// upsert or update_vectors whose multivector has more sub-vectors, with
// Qdrant's text, and passes one at the limit; other vectors are not held
// to it. A multivector query costs its sub-vectors against
// read_rate_limit.
func TestStrictModeMultivector(t *testing.T) {
	c, clk := strictFixture(t, `{"vectors":{"":{"size":4,"distance":"Dot"},"m":{"size":2,"distance":"Dot","multivector_config":{"comparator":"max_sim"}}}}`)
	setStrict(t, c, `{"enabled":true,"multivector_config":{"m":{"max_vectors":2}},"read_rate_limit":4}`)
	write := func(kind ops.Kind, k int) error {
		v := make([]float32, 2*k)
		op := &ops.Operation{Kind: kind}
		if kind == ops.Upsert {
			op.Points = []ops.PointStruct{{ID: point.NumID(100), Vectors: point.Vectors{"m": v, "": {1, 2, 3, 4}}}}
		} else {
			op.Vectors = []ops.PointVectors{{ID: point.NumID(100), Vectors: point.Vectors{"m": v}}}
		}
		_, err := c.Update(bg, op, true)
		return err
	}
	for _, tc := range []struct {
		name string
		run  func() error
		want string // "" passes
	}{
		{"upsert of 2", func() error { return write(ops.Upsert, 2) }, ""},
		{"upsert of 3", func() error { return write(ops.Upsert, 3) }, "Multivector 'm' has a limit of 2 vectors, but 3 were provided!"},
		{"update_vectors of 2", func() error { return write(ops.UpdateVectors, 2) }, ""},
		{"update_vectors of 3", func() error { return write(ops.UpdateVectors, 3) }, "Multivector 'm' has a limit of 2 vectors, but 3 were provided!"},
		{"a query of 3 sub-vectors", func() error {
			_, err := c.Search(bg, ops.SearchRequest{Using: "m", Vector: make([]float32, 6), Limit: 1})
			return err
		}, ""},
		{"2 more tokens: one left", func() error {
			_, err := c.Search(bg, ops.SearchRequest{Using: "m", Vector: make([]float32, 4), Limit: 1})
			return err
		}, "Read rate limit exceeded: Operation requires 2 tokens but only 1.0 were available"},
		{"a plain query costs one", func() error {
			_, err := c.Search(bg, ops.SearchRequest{Using: "m", Vector: make([]float32, 2), Limit: 1})
			return err
		}, ""},
	} {
		err := tc.run()
		var rl *RateLimitError
		switch {
		case tc.want == "" && err != nil:
			t.Fatalf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Fatalf("%s: %v, want %q", tc.name, err, tc.want)
		case tc.want != "" && !errors.As(err, &rl) && point.KindOf(err) != point.KindBadRequest:
			t.Fatalf("%s: %v is neither a bad request nor a rate limit", tc.name, err)
		}
	}
	_ = clk
}
