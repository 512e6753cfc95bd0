package segment

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vector/quant"
)

func mustQuant(t testing.TB, js string) *quant.Config {
	t.Helper()
	cfg, err := quant.ParseConfig(json.RawMessage(js))
	if err != nil || cfg == nil {
		t.Fatalf("config %s: %v", js, err)
	}
	return cfg
}

// buildAll runs every pending graph and codes build, then links the rest.
func buildAll(t testing.TB, s *Store) {
	t.Helper()
	for b := s.PrepareGraphBuild(); b != nil; b = s.PrepareGraphBuild() {
		g, err := b.Run(context.Background(), 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.InstallGraph(b, g)
	}
	for s.IndexWork() {
		if _, err := s.LinkPending(500); err != nil {
			t.Fatal(err)
		}
	}
}

// clusteredVecs draws n vectors around a few centres (embeddings are
// clustered; quantization is trained on such data).
func clusteredVecs(r *rand.Rand, n, dim int, shift float64) [][]float32 {
	centres := make([][]float64, 20)
	for i := range centres {
		centres[i] = make([]float64, dim)
		for j := range centres[i] {
			centres[i][j] = r.NormFloat64()
		}
	}
	out := make([][]float32, n)
	for i := range out {
		c := centres[r.IntN(len(centres))]
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(c[j] + 0.5*r.NormFloat64() + shift)
		}
		out[i] = v
	}
	return out
}

// tightClusters draws n vectors around k random directions, each with
// noise of the given norm: data whose neighbours are clearly closer than
// the rest, the kind binary quantization is meant for.
func tightClusters(r *rand.Rand, n, dim, k int, noise float64) [][]float32 {
	centres := make([][]float32, k)
	for i := range centres {
		centres[i] = randUnit(r, dim)
	}
	out := make([][]float32, n)
	for i := range out {
		c := centres[r.IntN(k)]
		e := randUnit(r, dim)
		v := make([]float32, dim)
		for j := range v {
			v[j] = c[j] + float32(noise)*e[j]
		}
		out[i] = v
	}
	return out
}

func quantStore(t testing.TB, dist vector.Distance, dt Datatype, cfg *quant.Config, vecs [][]float32) *Store {
	t.Helper()
	dim := len(vecs[0])
	s := NewStore(map[string]VectorSpec{"v": {Dim: dim, Distance: dist, Datatype: dt}})
	s.SetIndexParams("v", IndexParams{M: 16, EfConstruct: 100, IndexingThreshold: 10, FullScanThreshold: 10, Seed: 3, Quantization: cfg})
	for i, v := range vecs {
		if dt != Uint8 {
			v = dist.Preprocess(v)
		}
		s.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"v": v}, nil)
	}
	s.PrepareRead()
	buildAll(t, s)
	return s
}

// recallVsExact compares a search's offsets with the exact search's.
func recallVsExact(s *Store, qs [][]float32, dist vector.Distance, dt Datatype, k int, qp *quant.SearchParams) float64 {
	sum := 0.0
	for _, q := range qs {
		if dt != Uint8 {
			q = dist.Preprocess(q)
		}
		p := SearchParams{Vector: "v", Query: q, Limit: k, HnswEf: 128, Quantization: qp}
		got := must(s.Search(bg, p))
		p.Exact = true
		want := must(s.Search(bg, p))
		in := map[uint32]bool{}
		for _, h := range want {
			in[h.Offset] = true
		}
		hit := 0
		for _, h := range got {
			if in[h.Offset] {
				hit++
			}
		}
		sum += float64(hit) / float64(len(want))
	}
	return sum / float64(len(qs))
}

func f64p(x float64) *float64 { return &x }
func boolp(b bool) *bool      { return &b }

// TestQuantizedSearchRecall: with rescoring and oversampling, quantized
// search through the graph finds the true nearest neighbours.
func TestQuantizedSearchRecall(t *testing.T) {
	const seed = 11
	t.Logf("seed %d", seed)
	n := 3000
	if raceOn {
		n = 800
	}
	rescore := &quant.SearchParams{Rescore: boolp(true), Oversampling: f64p(3)}
	cases := []struct {
		name string
		dist vector.Distance
		dt   Datatype
		cfg  string
		dim  int
		min  float64
	}{
		{"scalar cosine", vector.Cosine, Float32, `{"scalar":{"type":"int8","quantile":0.99}}`, 64, 0.95},
		{"scalar euclid", vector.Euclid, Float32, `{"scalar":{"type":"int8"}}`, 64, 0.95},
		{"scalar dot float16", vector.Dot, Float16, `{"scalar":{"type":"int8"}}`, 64, 0.95},
		{"binary cosine", vector.Cosine, Float32, `{"binary":{}}`, 256, 0.85},
		{"binary two bits scalar8 query", vector.Cosine, Float32, `{"binary":{"encoding":"two_bits","query_encoding":"scalar8bits"}}`, 256, 0.9},
		{"product euclid x8", vector.Euclid, Float32, `{"product":{"compression":"x8"}}`, 32, 0.85},
		{"scalar cosine uint8", vector.Cosine, Uint8, `{"scalar":{"type":"int8"}}`, 32, 0.9},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 1))
			vecs := clusteredVecs(r, n+50, tc.dim, 0)
			if strings.HasPrefix(tc.name, "binary") {
				// Binary codes keep one or two bits a dimension: they
				// separate well-separated neighbourhoods, not the inside of
				// broad clusters.
				vecs = tightClusters(r, n+50, tc.dim, n/10, 0.5)
			}
			if tc.dt == Uint8 {
				for _, v := range vecs {
					for j := range v {
						v[j] = float32(math.Round(max(0, min(255, 128+40*float64(v[j])))))
					}
				}
			}
			s := quantStore(t, tc.dist, tc.dt, mustQuant(t, tc.cfg), vecs[:n])
			if s.VectorMemory()["v"].QuantizedBytes == 0 {
				t.Fatal("no quantized codes were built")
			}
			qs := vecs[n:]
			got := recallVsExact(s, qs, tc.dist, tc.dt, 10, rescore)
			t.Logf("%s: recall@10 rescored x3 %.3f", tc.name, got)
			if got < tc.min {
				t.Fatalf("recall %.3f < %.2f", got, tc.min)
			}
			// Rescored scores are the exact ones.
			q := qs[0]
			if tc.dt != Uint8 {
				q = tc.dist.Preprocess(q)
			}
			hits := must(s.Search(bg, SearchParams{Vector: "v", Query: q, Limit: 5, HnswEf: 128, Quantization: rescore}))
			exact := s.columns["v"].scorer(q)
			for _, h := range hits {
				if e := exact.Score(h.Offset); e != h.Score {
					t.Fatalf("rescored score %v, exact %v", h.Score, e)
				}
			}
		})
	}
}

// TestQuantizedSearchParams: ignore and exact bypass the codes; without
// rescoring the scores are the codes' approximations; oversampling never
// returns more than the limit.
func TestQuantizedSearchParams(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	vecs := clusteredVecs(r, 600, 32, 0)
	s := quantStore(t, vector.Euclid, Float32, mustQuant(t, `{"scalar":{"type":"int8"}}`), vecs[:500])
	q := vecs[550]
	plain := must(s.Search(bg, SearchParams{Vector: "v", Query: q, Limit: 5, HnswEf: 64, Quantization: &quant.SearchParams{Ignore: true}}))
	exact := s.columns["v"].scorer(q)
	for _, h := range plain {
		if h.Score != exact.Score(h.Offset) {
			t.Fatalf("ignore: score %v, exact %v", h.Score, exact.Score(h.Offset))
		}
	}
	approx := must(s.Search(bg, SearchParams{Vector: "v", Query: q, Limit: 5, HnswEf: 64, Quantization: &quant.SearchParams{Oversampling: f64p(4)}}))
	if len(approx) != 5 {
		t.Fatalf("oversampled search returned %d hits, want 5", len(approx))
	}
	differs := false
	for _, h := range approx {
		e := exact.Score(h.Offset)
		if h.Score != e {
			differs = true
		}
		if math.Abs(float64(h.Score-e)) > 0.1*float64(e)+0.1 {
			t.Fatalf("quantized score %v too far from exact %v", h.Score, e)
		}
	}
	if !differs {
		t.Fatal("scalar quantization without rescoring returned exact scores")
	}
}

// TestQuantizedStaleVectors: a vector written after the codes were built
// is scored exactly, found, and stays so across a checkpoint.
func TestQuantizedStaleVectors(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	vecs := clusteredVecs(r, 400, 16, 0)
	s := quantStore(t, vector.Dot, Float32, mustQuant(t, `{"scalar":{"type":"int8"}}`), vecs)
	far := make([]float32, 16)
	for i := range far {
		far[i] = 50
	}
	s.Upsert(point.NumID(7), 2, point.Vectors{"v": far}, nil)
	s.PrepareRead()
	check := func(s *Store) {
		t.Helper()
		hits := must(s.Search(bg, SearchParams{Vector: "v", Query: far, Limit: 1, Quantization: &quant.SearchParams{Rescore: boolp(false)}}))
		if len(hits) != 1 || s.ids[hits[0].Offset] != point.NumID(7) {
			t.Fatalf("the rewritten point is not the top hit: %v", hits)
		}
		if want := vector.DotProduct(far, far); hits[0].Score != want {
			t.Fatalf("stale point scored %v, want the exact %v", hits[0].Score, want)
		}
	}
	check(s)
	buildAll(t, s)
	check(s)
	got, _, err := ReadCheckpoint(checkpointBytes(t, s, 1))
	if err != nil {
		t.Fatal(err)
	}
	check(got)
}

// TestQuantizedCheckpointNoRetrain: codes survive a checkpoint, so a
// restart with the same config builds nothing and scores the same; a new
// config rebuilds the codes only, and disabling drops them.
func TestQuantizedCheckpointNoRetrain(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	vecs := clusteredVecs(r, 500, 24, 0)
	cfg := mustQuant(t, `{"product":{"compression":"x4"}}`)
	s := quantStore(t, vector.Cosine, Float16, cfg, vecs[:450])
	mem := s.VectorMemory()["v"]
	t.Logf("memory: %+v", mem)
	if mem.Datatype != Float16 || mem.Quantization != quant.Product || mem.QuantizedBytes == 0 || mem.GraphBytes == 0 {
		t.Fatalf("VectorMemory = %+v", mem)
	}
	if want := int64(450 * 24 * 2); mem.VectorBytes != want {
		t.Fatalf("float16 vector bytes %d, want %d", mem.VectorBytes, want)
	}
	qp := &quant.SearchParams{Rescore: boolp(false)}
	q := vector.Cosine.Preprocess(vecs[470])
	before := must(s.Search(bg, SearchParams{Vector: "v", Query: q, Limit: 10, HnswEf: 64, Quantization: qp}))

	got, _, err := ReadCheckpoint(checkpointBytes(t, s, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.RebuiltIndexes()) != 0 {
		t.Fatalf("rebuilt on load: %v", got.RebuiltIndexes())
	}
	got.SetIndexParams("v", IndexParams{M: 16, EfConstruct: 100, IndexingThreshold: 10, FullScanThreshold: 10, Seed: 3, Quantization: mustQuant(t, `{"product":{"compression":"x4"}}`)})
	if b := got.PrepareGraphBuild(); b != nil {
		t.Fatalf("a reloaded store with the same config builds %q again", b.Name())
	}
	if m := got.VectorMemory()["v"]; m != mem {
		t.Fatalf("memory after reload %+v, before %+v", m, mem)
	}
	after := must(got.Search(bg, SearchParams{Vector: "v", Query: q, Limit: 10, HnswEf: 64, Quantization: qp}))
	if len(after) != len(before) {
		t.Fatalf("%d hits after reload, %d before", len(after), len(before))
	}
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("hit %d after reload %v, before %v", i, after[i], before[i])
		}
	}

	// A new config: only the codes are built again.
	got.SetIndexParams("v", IndexParams{M: 16, EfConstruct: 100, IndexingThreshold: 10, Seed: 3, Quantization: mustQuant(t, `{"scalar":{"type":"int8"}}`)})
	b := got.PrepareGraphBuild()
	if b == nil || b.Points() != 0 {
		t.Fatalf("config change: build %v, want a codes-only build", b)
	}
	g, err := b.Run(context.Background(), 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	got.InstallGraph(b, g)
	if k := got.VectorMemory()["v"].Quantization; k != quant.Scalar {
		t.Fatalf("quantization after rebuild %q", k)
	}
	// Disabled.
	got.SetIndexParams("v", IndexParams{M: 16, EfConstruct: 100, IndexingThreshold: 10, Seed: 3})
	if m := got.VectorMemory()["v"]; m.Quantization != "" || m.QuantizedBytes != 0 {
		t.Fatalf("memory after disabling %+v", m)
	}
}

// TestDatatypes: float16 and uint8 columns store their type, read back as
// floats (uint8 truncated and saturated as Qdrant's `as u8`), and search
// exactly and through the graph in their own arithmetic.
func TestDatatypes(t *testing.T) {
	s := NewStore(map[string]VectorSpec{
		"h": {Dim: 3, Distance: vector.Dot, Datatype: Float16},
		"b": {Dim: 3, Distance: vector.Cosine, Datatype: Uint8},
	})
	s.Upsert(num(1), 1, point.Vectors{"h": {0.1, 1, 65504}, "b": {3.9, 300, -2}}, nil)
	r, _ := s.Get(num(1), all)
	if h := r.Vectors["h"]; h[0] != vector.Float16ToFloat32(vector.Float32ToFloat16(0.1)) || h[1] != 1 || h[2] != 65504 {
		t.Fatalf("float16 read back %v", h)
	}
	if b := r.Vectors["b"]; b[0] != 3 || b[1] != 255 || b[2] != 0 {
		t.Fatalf("uint8 read back %v", b)
	}
	m := s.VectorMemory()
	if m["h"].VectorBytes != 6 || m["b"].VectorBytes != 3 || m["b"].Datatype != Uint8 {
		t.Fatalf("VectorMemory %+v", m)
	}
	// uint8 Cosine is computed on the unnormalised integers, query cast too.
	hits := must(s.Search(bg, SearchParams{Vector: "b", Query: []float32{1.5, 0, 0}, Limit: 1}))
	want := float32(3.0 / math.Sqrt(9+255*255))
	if len(hits) != 1 || math.Abs(float64(hits[0].Score-want)) > 1e-6 {
		t.Fatalf("uint8 cosine score %v, want %v", hits, want)
	}

	const seed = 21
	t.Logf("seed %d", seed)
	for _, tc := range []struct {
		dt   Datatype
		dist vector.Distance
	}{{Float16, vector.Cosine}, {Float16, vector.Euclid}, {Uint8, vector.Euclid}, {Uint8, vector.Cosine}, {Uint8, vector.Manhattan}, {Uint8, vector.Dot}} {
		t.Run(string(tc.dt)+"/"+string(tc.dist), func(t *testing.T) {
			rr := rand.New(rand.NewPCG(seed, 2))
			n := 1500
			if raceOn {
				n = 500
			}
			vecs := clusteredVecs(rr, n+30, 24, 0)
			if tc.dt == Uint8 {
				for _, v := range vecs {
					for j := range v {
						v[j] = float32(math.Round(max(0, min(255, 128+40*float64(v[j])))))
					}
				}
			}
			s := quantStore(t, tc.dist, tc.dt, nil, vecs[:n])
			if s.IndexedVectors() != n {
				t.Fatalf("indexed %d of %d", s.IndexedVectors(), n)
			}
			if got := recallVsExact(s, vecs[n:], tc.dist, tc.dt, 10, nil); got < 0.9 {
				t.Fatalf("graph recall %.3f < 0.9", got)
			}
			// The exact scan agrees with float32 arithmetic on the stored
			// values (float16 rounding of the query aside).
			q := vecs[n]
			if tc.dt != Uint8 {
				q = tc.dist.Preprocess(q)
			}
			top := must(s.Search(bg, SearchParams{Vector: "v", Query: q, Limit: 1, Exact: true}))[0]
			stored, _ := s.Vector(s.ids[top.Offset], "v")
			ref := tc.dist.Score(q, stored)
			if tc.dt == Uint8 && tc.dist == vector.Cosine {
				ref = vector.DotProduct(q, stored) / float32(math.Sqrt(float64(vector.DotProduct(q, q)*vector.DotProduct(stored, stored))))
			}
			if math.Abs(float64(top.Score-ref)) > 1e-3*math.Max(1, math.Abs(float64(ref))) {
				t.Fatalf("exact score %v, float32 reference %v", top.Score, ref)
			}
		})
	}
}

// TestDatatypeCheckpoint: typed columns round-trip through a checkpoint
// with their graphs.
func TestDatatypeCheckpoint(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	vecs := clusteredVecs(r, 300, 8, 0)
	for _, v := range vecs {
		for j := range v {
			v[j] = float32(math.Round(max(0, min(255, 128+40*float64(v[j])))))
		}
	}
	s := quantStore(t, vector.Euclid, Uint8, mustQuant(t, `{"binary":{"encoding":"two_bits"}}`), vecs)
	data := checkpointBytes(t, s, 3)
	got, _, err := ReadCheckpoint(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(checkpointBytes(t, got, 3), data) {
		t.Fatal("write/read/write of a typed, quantized store is not stable")
	}
	if m := got.VectorMemory()["v"]; m.Datatype != Uint8 || m.VectorBytes != 300*8 || m.Quantization != quant.Binary {
		t.Fatalf("reloaded memory %+v", m)
	}
	sameStore(t, s, got)
}

// TestGraphMatchesQuantization: a sealed segment whose codes differ from
// the configured quantization is a config mismatch for the optimizer.
func TestGraphMatchesQuantization(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	scalar := `{"scalar":{"type":"int8"}}`
	s := quantStore(t, vector.Dot, Float32, mustQuant(t, scalar), clusteredVecs(r, 100, 8, 0))
	p := IndexParams{M: 16, EfConstruct: 100, IndexingThreshold: 10}
	for _, tc := range []struct {
		cfg  string
		want bool
	}{{scalar, true}, {`{"scalar":{"type":"int8","quantile":0.9}}`, false}, {`{"binary":{}}`, false}, {"", false}} {
		p.Quantization = nil
		if tc.cfg != "" {
			p.Quantization = mustQuant(t, tc.cfg)
		}
		if built, ok := s.GraphMatches("v", p); !built || ok != tc.want {
			t.Errorf("%q: built %v matches %v, want %v", tc.cfg, built, ok, tc.want)
		}
	}
}
