package quant

import (
	"testing"

	"github.com/shoaldb/shoal/internal/vector"
)

// BenchmarkScore compares Score throughput per kind with the exact float32
// dot product, at 128 dimensions over 10k vectors (the codes of the
// larger kinds no longer fit in L1, as in a real segment).
func BenchmarkScore(b *testing.B) {
	const n, dim = 10_000, 128
	vecs := gaussian(37, vector.Cosine, n, dim)
	q := vecs[0]
	b.Run("float32-dot", func(b *testing.B) {
		var sink float32
		for i := range b.N {
			sink += vector.DotProduct(q, vecs[i%n])
		}
		_ = sink
	})
	for _, bc := range []struct{ name, cfg string }{
		{"scalar", `{"scalar":{"type":"int8","quantile":0.99}}`},
		{"binary", `{"binary":{}}`},
		{"binary-two_bits", `{"binary":{"encoding":"two_bits"}}`},
		{"binary-scalar8bits", `{"binary":{"query_encoding":"scalar8bits"}}`},
		{"product-x4", `{"product":{"compression":"x4"}}`},
		{"product-x16", `{"product":{"compression":"x16"}}`},
		{"product-x64", `{"product":{"compression":"x64"}}`},
	} {
		for _, dist := range []vector.Distance{vector.Cosine, vector.Euclid} {
			enc, err := Build(mustConfig(b, bc.cfg), dist, dim, n, at(vecs), 1)
			if err != nil {
				b.Fatal(err)
			}
			s := enc.Scorer(q)
			b.Run(bc.name+"/"+string(dist), func(b *testing.B) {
				var sink float32
				for i := range b.N {
					sink += s.Score(uint32(i % n))
				}
				_ = sink
			})
		}
	}
}

// BenchmarkScorer is the per-query cost: encoding the query or building
// the PQ lookup table.
func BenchmarkScorer(b *testing.B) {
	const n, dim = 2000, 128
	vecs := gaussian(41, vector.Dot, n, dim)
	for _, bc := range []struct{ name, cfg string }{
		{"scalar", `{"scalar":{"type":"int8"}}`},
		{"binary", `{"binary":{}}`},
		{"product-x16", `{"product":{"compression":"x16"}}`},
	} {
		enc, err := Build(mustConfig(b, bc.cfg), vector.Dot, dim, n, at(vecs), 1)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := range b.N {
				enc.Scorer(vecs[i%n])
			}
		})
	}
}

// BenchmarkBuild times training plus encoding of 5k x 128 vectors.
func BenchmarkBuild(b *testing.B) {
	const n, dim = 5000, 128
	vecs := gaussian(43, vector.Euclid, n, dim)
	for _, bc := range []struct{ name, cfg string }{
		{"scalar", `{"scalar":{"type":"int8","quantile":0.99}}`},
		{"binary-two_bits", `{"binary":{"encoding":"two_bits"}}`},
		{"product-x16", `{"product":{"compression":"x16"}}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := mustConfig(b, bc.cfg)
			for range b.N {
				if _, err := Build(cfg, vector.Euclid, dim, n, at(vecs), 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
