package segment

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vector/quant"
)

// BenchmarkQuantizedSearch compares graph searches (limit 10, hnsw_ef 64)
// over 10k 128-dimensional Cosine vectors shaped like embeddings (50
// clusters in a 32-dimensional latent space, mapped linearly into 128
// dimensions, plus a little noise): float32, scalar int8,
// turbo quantization at 4, 2 and 1 bits (Qdrant's rescoring defaults: none
// at 4 bits, rescoring below; 1 bit with oversampling 3) and the turbo4
// datatype. It reports queries per second of one goroutine (qps), recall@10
// against the exact float32 top 10 (recall) and the bytes of the vectors
// and codes (bytes). The graph is built once per datatype; the codes are
// swapped on it.
func BenchmarkQuantizedSearch(b *testing.B) {
	const seed, n, nq, dim, k = 20240611, 10_000, 100, 128, 10
	vecs := latentVecs(rand.New(rand.NewPCG(seed, 1)), n+nq, dim, 32, 50)
	queries, vecs := vecs[n:], vecs[:n]
	truth := make([][]uint32, nq)
	for qi, q := range queries {
		scores := make([]float32, n)
		for i, v := range vecs {
			scores[i] = vector.DotProduct(q, v)
		}
		idx := make([]uint32, n)
		for i := range idx {
			idx[i] = uint32(i)
		}
		slices.SortFunc(idx, func(a, c uint32) int {
			switch {
			case scores[a] > scores[c]:
				return -1
			case scores[a] < scores[c]:
				return 1
			}
			return 0
		})
		truth[qi] = idx[:k]
	}
	build := func(dt Datatype) *Store {
		s := NewStore(map[string]VectorSpec{"v": {Dim: dim, Distance: vector.Cosine, Datatype: dt}})
		for i, v := range vecs {
			s.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"v": v}, nil)
		}
		s.PrepareRead()
		start := time.Now()
		s.SetIndexParams("v", IndexParams{M: 16, EfConstruct: 64, IndexingThreshold: 1, Seed: seed})
		buildAll(b, s)
		b.Logf("%s graph built in %v", dt, time.Since(start).Round(time.Millisecond))
		return s
	}
	f32, t4 := build(Float32), build(Turbo4)
	oversample3 := 3.0
	for _, bc := range []struct {
		name  string
		s     *Store
		quant string
		p     *quant.SearchParams
	}{
		{"float32", f32, "", nil},
		{"scalar-int8", f32, `{"scalar":{"type":"int8"}}`, nil},
		{"turbo-bits4", f32, `{"turbo":{}}`, nil},
		{"turbo-bits2", f32, `{"turbo":{"bits":"bits2"}}`, nil},
		{"turbo-bits1-x3", f32, `{"turbo":{"bits":"bits1"}}`, &quant.SearchParams{Oversampling: &oversample3}},
		{"datatype-turbo4", t4, "", nil},
	} {
		p := IndexParams{M: 16, EfConstruct: 64, IndexingThreshold: 1, Seed: seed}
		if bc.quant != "" {
			p.Quantization = mustQuant(b, bc.quant)
		}
		bc.s.SetIndexParams("v", p)
		buildAll(b, bc.s)
		search := func(qi int) []Scored {
			return must(bc.s.Search(bg, SearchParams{Vector: "v", Query: queries[qi], Limit: k, HnswEf: 64, Quantization: bc.p}))
		}
		hits := 0
		for qi := range queries {
			for _, h := range search(qi) {
				if slices.Contains(truth[qi], h.Offset) {
					hits++
				}
			}
		}
		m := bc.s.VectorMemory()["v"]
		b.Run(bc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				search(i % nq)
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "qps")
			b.ReportMetric(float64(hits)/float64(nq*k), "recall")
			b.ReportMetric(float64(m.VectorBytes+m.QuantizedBytes), "bytes")
		})
	}
}

// latentVecs draws n Cosine vectors of dim dimensions from c Gaussian
// clusters (spread 0.5) in a latent space of dimension latent, mapped by a
// fixed random linear map, plus noise of 0.05 per component: data of low
// intrinsic dimension, as embeddings are.
func latentVecs(r *rand.Rand, n, dim, latent, c int) [][]float32 {
	gauss := func(k int) []float64 {
		v := make([]float64, k)
		for i := range v {
			v[i] = r.NormFloat64()
		}
		return v
	}
	proj := make([][]float64, dim)
	for i := range proj {
		proj[i] = gauss(latent)
	}
	centres := make([][]float64, c)
	for i := range centres {
		centres[i] = gauss(latent)
	}
	out := make([][]float32, n)
	for k := range out {
		ctr, z := centres[r.IntN(c)], gauss(latent)
		v := make([]float32, dim)
		for i, row := range proj {
			var x float64
			for j, p := range row {
				x += p * (ctr[j] + 0.5*z[j])
			}
			v[i] = float32(x/8 + 0.05*r.NormFloat64())
		}
		out[k] = vector.Cosine.Preprocess(v)
	}
	return out
}
