package segment

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vector/quant"
)

// TestSearchHugeLimits: Limit, HnswEf and the quantization oversampling come
// from requests and may be anything up to math.MaxInt. A search answers
// with what exists (every point, best first, as an exact search of limit n
// does) and allocates by what exists: before the bound, the result heap was
// sized by Limit, and 2^62 panicked while 2^31 took gigabytes.
func TestSearchHugeLimits(t *testing.T) {
	const n, dim = 200, 8
	r := rand.New(rand.NewPCG(7, 11))
	vecs := clusteredVecs(r, n, dim, 0)
	scalar := mustQuant(t, `{"scalar":{"type":"int8","always_ram":true}}`)
	stores := map[string]*Store{
		"scan":      NewStore(map[string]VectorSpec{"v": {Dim: dim, Distance: vector.Dot}}),
		"graph":     quantStore(t, vector.Cosine, Float32, nil, vecs),
		"quantized": quantStore(t, vector.Cosine, Float32, scalar, vecs),
		"empty":     NewStore(map[string]VectorSpec{"v": {Dim: dim, Distance: vector.Dot}}),
	}
	for i, v := range vecs {
		stores["scan"].Upsert(point.NumID(uint64(i)), 1, point.Vectors{"v": v}, nil)
	}
	stores["scan"].PrepareRead()
	stores["empty"].PrepareRead()
	huge := []int{1 << 62, math.MaxInt, 1 << 31, 1 << 32, 1e12}
	for name, s := range stores {
		q := vector.Cosine.Preprocess(vecs[3])
		want := must(s.Search(bg, SearchParams{Vector: "v", Query: q, Limit: n, Exact: true}))
		if name != "empty" && len(want) != n {
			t.Fatalf("%s: exact search of limit %d: %d hits", name, n, len(want))
		}
		for _, limit := range huge {
			for _, p := range []SearchParams{
				{Vector: "v", Query: q, Limit: limit},
				{Vector: "v", Query: q, Limit: limit, Exact: true},
				{Vector: "v", Query: q, Limit: limit, HnswEf: limit},
				{Vector: "v", Query: q, Limit: 5, HnswEf: limit},
				{Vector: "v", Query: q, Limit: limit, Quantization: &quant.SearchParams{Oversampling: f64p(1e300), Rescore: boolp(true)}},
				{Vector: "v", Query: q, Limit: 5, HnswEf: limit, Quantization: &quant.SearchParams{Oversampling: f64p(1e300)}},
			} {
				got := must(s.Search(bg, p))
				wantN := min(p.Limit, len(want))
				if len(got) != wantN {
					t.Fatalf("%s: limit %d ef %d: %d hits, want %d", name, p.Limit, p.HnswEf, len(got), wantN)
				}
				// Every point, as the exact search finds them (scores from
				// quantized codes may order them differently).
				if p.Limit >= n && !slices.Equal(offsets(got), offsets(want)) {
					t.Errorf("%s: limit %d ef %d: hits differ from the exact search", name, p.Limit, p.HnswEf)
				}
			}
		}
	}
}

func offsets(hits []Scored) []uint32 {
	out := make([]uint32, len(hits))
	for i, h := range hits {
		out[i] = h.Offset
	}
	slices.Sort(out)
	return out
}
