package segment

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/point"
)

// The sparse search benchmark: 100k documents of about 100 non-zeros each
// over a 30k-dimension vocabulary drawn from a Zipf distribution (as words
// are), queried by 20-term vectors from the same distribution. "exact" is
// an appendable segment (every vector scored), "indexed" a sealed one
// (posting lists); "filter" adds a keyword condition (payload index) that
// 10% of the documents match.
//
//	go test -run XXX -bench BenchmarkSparseSearch100k ./internal/segment/
const (
	benchDocs   = 100_000
	benchVocab  = 30_000
	benchNNZ    = 100
	benchQTerms = 20
)

var sparseBench struct {
	once             sync.Once
	appendable, seal *Store
	queries          []point.SparseVector
}

func zipfVector(r *rand.Rand, z *rand.Zipf, nnz int) point.SparseVector {
	seen := make(map[uint32]bool, nnz)
	v := point.SparseVector{Indices: make([]uint32, 0, nnz), Values: make([]float32, 0, nnz)}
	for len(v.Indices) < nnz {
		d := uint32(z.Uint64())
		if seen[d] {
			continue
		}
		seen[d] = true
		v.Indices = append(v.Indices, d)
		v.Values = append(v.Values, 0.1+r.Float32())
	}
	return v.Sorted()
}

func sparseBenchStores(b *testing.B) (*Store, *Store, []point.SparseVector) {
	sparseBench.once.Do(func() {
		start := time.Now()
		r := rand.New(rand.NewPCG(1, 2))
		z := rand.NewZipf(r, 1.07, 2, benchVocab-1)
		build := func() *Store {
			s := NewStore(nil)
			s.AddSparseColumn("s", SparseSpec{})
			if err := s.CreateIndex("tag", []byte(`"keyword"`)); err != nil {
				b.Fatal(err)
			}
			return s
		}
		a, sealed := build(), build()
		tags := []string{"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"}
		for i := range benchDocs {
			v := zipfVector(r, z, benchNNZ-20+r.IntN(41))
			p := point.Payload{"tag": tags[i%10]}
			a.UpsertPoint(point.NumID(uint64(i)), 1, nil, point.SparseVectors{"s": v}, p)
			sealed.UpsertPoint(point.NumID(uint64(i)), 1, nil, point.SparseVectors{"s": v}, p)
		}
		sealed.BuildSparseIndexes()
		a.PrepareRead()
		sealed.PrepareRead()
		for range 256 {
			sparseBench.queries = append(sparseBench.queries, zipfVector(r, z, benchQTerms))
		}
		sparseBench.appendable, sparseBench.seal = a, sealed
		b.Logf("built %d documents, %d postings, in %v", benchDocs, sealed.SparseEntries(), time.Since(start).Round(time.Millisecond))
	})
	return sparseBench.appendable, sparseBench.seal, sparseBench.queries
}

func BenchmarkSparseSearch100k(b *testing.B) {
	appendable, sealed, queries := sparseBenchStores(b)
	filter := mustFilter(`{"must":[{"key":"tag","match":{"value":"t3"}}]}`)
	for _, c := range []struct {
		name   string
		store  *Store
		filter bool
	}{
		{"exact", appendable, false},
		{"exact/filter", appendable, true},
		{"indexed", sealed, false},
		{"indexed/filter", sealed, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := SparseSearchParams{Vector: "s", Limit: 10, FullScanThreshold: 5000}
			if c.filter {
				p.Filter = filter
			}
			b.ResetTimer()
			for i := range b.N {
				p.Query = queries[i%len(queries)]
				hits, err := c.store.SearchSparse(context.Background(), p)
				if err != nil || len(hits) != 10 {
					b.Fatalf("%d hits, %v", len(hits), err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "qps")
		})
	}
}
