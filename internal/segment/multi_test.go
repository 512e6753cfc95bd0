package segment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vector/quant"
	"github.com/shoaldb/shoal/internal/vfs"
)

// flat joins sub-vectors into the flat form point.Vectors carries.
func flat(subs ...[]float32) []float32 {
	var out []float32
	for _, s := range subs {
		out = append(out, s...)
	}
	return out
}

// preprocessMulti normalises each sub-vector for Cosine, as the collection
// does before a multivector reaches a segment.
func preprocessMulti(dist vector.Distance, v []float32, dim int) []float32 {
	out := append([]float32(nil), v...)
	if dist == vector.Cosine {
		for i := 0; i < len(out); i += dim {
			vector.Normalize(out[i : i+dim])
		}
	}
	return out
}

// maxSimOracle is max_sim by its definition, in float64: for each query
// sub-vector its best similarity among the stored sub-vectors (Qdrant's
// similarity: dot, or minus the squared or L1 distance; the cosine of the
// two for uint8 Cosine), summed; then Qdrant's postprocessing of Euclid
// (square root of the absolute value) and Manhattan (absolute value).
func maxSimOracle(dist vector.Distance, dt Datatype, q, v []float32, dim int) float64 {
	sim := func(a, b []float32) float64 {
		var dot, na, nb, sq, l1 float64
		for i := range a {
			x, y := float64(a[i]), float64(b[i])
			dot += x * y
			na += x * x
			nb += y * y
			sq += (x - y) * (x - y)
			l1 += math.Abs(x - y)
		}
		switch {
		case dist == vector.Euclid:
			return -sq
		case dist == vector.Manhattan:
			return -l1
		case dist == vector.Cosine && dt == Uint8:
			if na == 0 || nb == 0 {
				return 0
			}
			return dot / math.Sqrt(na*nb)
		}
		return dot
	}
	var sum float64
	for i := 0; i < len(q); i += dim {
		best := math.Inf(-1)
		for j := 0; j < len(v); j += dim {
			best = max(best, sim(q[i:i+dim], v[j:j+dim]))
		}
		sum += best
	}
	switch dist {
	case vector.Euclid:
		return math.Sqrt(math.Abs(sum))
	case vector.Manhattan:
		return math.Abs(sum)
	}
	return sum
}

// asStored is a query as a column of datatype dt compares it: rounded to
// float16, or cast to uint8 as Rust's `as u8` does.
func asStored(dt Datatype, q []float32) []float32 {
	out := make([]float32, len(q))
	switch dt {
	case Float16:
		for i, x := range q {
			out[i] = vector.Float16ToFloat32(vector.Float32ToFloat16(x))
		}
	case Uint8:
		b := make([]uint8, len(q))
		toU8(b, q)
		for i, x := range b {
			out[i] = float32(x)
		}
	default:
		copy(out, q)
	}
	return out
}

// randMulti draws k sub-vectors of dim elements: small integers for
// uint8, normal values otherwise.
func randMulti(r *rand.Rand, dt Datatype, k, dim int) []float32 {
	v := make([]float32, k*dim)
	for i := range v {
		if dt == Uint8 {
			v[i] = float32(r.IntN(12))
		} else {
			v[i] = float32(r.NormFloat64())
		}
	}
	return v
}

// TestMaxSimAgainstOracle: an exact search of a multivector column scores
// every point with a vector by max_sim as the oracle computes it from the
// stored sub-vectors, for each distance and datatype, and ranks them by
// it; points without the vector are left out. Seeded, the seed is logged.
func TestMaxSimAgainstOracle(t *testing.T) {
	seed := uint64(20240611)
	t.Logf("seed %d", seed)
	const dim = 8
	for _, dt := range []Datatype{Float32, Float16, Uint8} {
		for _, dist := range []vector.Distance{vector.Cosine, vector.Dot, vector.Euclid, vector.Manhattan} {
			t.Run(fmt.Sprintf("%s/%s", dt, dist), func(t *testing.T) {
				r := rand.New(rand.NewPCG(seed, uint64(len(dt))+uint64(len(dist))))
				s := NewStore(map[string]VectorSpec{"m": {Dim: dim, Distance: dist, Datatype: dt, Multi: true}})
				with := 0
				for i := range 150 {
					if i%10 == 3 {
						s.Upsert(point.NumID(uint64(i)), 1, nil, nil) // no vector
						continue
					}
					v := preprocessMulti(dist, randMulti(r, dt, 1+r.IntN(6), dim), dim)
					s.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"m": v}, nil)
					with++
				}
				s.PrepareRead()
				for qn := 0; qn < 8; qn++ {
					q := preprocessMulti(dist, randMulti(r, dt, 1+qn%4, dim), dim)
					hits := must(s.Search(bg, SearchParams{Vector: "m", Query: q, Limit: 1000, Exact: true}))
					if len(hits) != with {
						t.Fatalf("query %d: %d hits, want %d", qn, len(hits), with)
					}
					cq := asStored(dt, q)
					want := make([]float64, len(hits))
					for i, h := range hits {
						rec := s.RecordAt(h.Offset, func(string) bool { return true })
						want[i] = maxSimOracle(dist, dt, cq, rec.Vectors["m"], dim)
						if d := math.Abs(float64(h.Score) - want[i]); d > 1e-4*max(1, math.Abs(want[i])) {
							t.Fatalf("query %d, point %v: score %v, oracle %v", qn, rec.ID, h.Score, want[i])
						}
					}
					for i := 1; i < len(want); i++ {
						better := want[i] > want[i-1]+1e-3*max(1, math.Abs(want[i]))
						if !dist.HigherIsBetter() {
							better = want[i] < want[i-1]-1e-3*max(1, math.Abs(want[i]))
						}
						if better {
							t.Fatalf("query %d: hit %d (oracle %v) ranks after hit %d (oracle %v)", qn, i, want[i], i-1, want[i-1])
						}
					}
				}
			})
		}
	}
}

// TestMaxSimQdrantEuclid is the case of Qdrant's test_multi_with_euclidean:
// the same multivector scores 0, the other sqrt(5+0+14) = 4.358899.
func TestMaxSimQdrantEuclid(t *testing.T) {
	s := NewStore(map[string]VectorSpec{"m": {Dim: 3, Distance: vector.Euclid, Multi: true}})
	s.Upsert(point.NumID(1), 1, point.Vectors{"m": {1, 2, 3, 3, 3, 3, 4, 5, 6}}, nil)
	s.Upsert(point.NumID(2), 1, point.Vectors{"m": {3, 3, 3, 4, 2, 1}}, nil)
	s.PrepareRead()
	hits := must(s.Search(bg, SearchParams{Vector: "m", Query: []float32{1, 2, 3, 3, 3, 3, 4, 5, 6}, Limit: 10}))
	if len(hits) != 2 || s.ids[hits[0].Offset] != point.NumID(1) || hits[0].Score != 0 {
		t.Fatalf("hits %+v, want point 1 first with score 0", hits)
	}
	if got := hits[1].Score; math.Abs(float64(got)-4.358899) > 1e-6 {
		t.Fatalf("score of point 2 = %v, want 4.358899", got)
	}
}

// TestMultiRows: a multivector written again keeps its room when the new
// one fits and moves to the end otherwise; reads return exactly what was
// written last, deletes and vector deletes leave the others intact.
func TestMultiRows(t *testing.T) {
	s := NewStore(map[string]VectorSpec{"m": {Dim: 2, Distance: vector.Dot, Multi: true}, "d": {Dim: 2, Distance: vector.Dot}})
	get := func(id uint64) []float32 {
		v, _ := s.Vector(point.NumID(id), "m")
		return v
	}
	s.Upsert(point.NumID(1), 1, point.Vectors{"m": {1, 1, 2, 2, 3, 3}, "d": {9, 9}}, nil)
	s.Upsert(point.NumID(2), 1, point.Vectors{"m": {4, 4}}, nil)
	c := s.columns["m"]
	if c.rows.used != 4 {
		t.Fatalf("used %d sub-vectors, want 4", c.rows.used)
	}
	s.UpdateVectors(point.NumID(1), 2, point.Vectors{"m": {5, 5, 6, 6}}) // fits in place
	if c.rows.used != 4 || !slices.Equal(get(1), []float32{5, 5, 6, 6}) {
		t.Fatalf("after a smaller rewrite: used %d, point 1 %v", c.rows.used, get(1))
	}
	s.UpdateVectors(point.NumID(2), 3, point.Vectors{"m": {7, 7, 8, 8}}) // moves to the end
	if c.rows.used != 6 || !slices.Equal(get(2), []float32{7, 7, 8, 8}) || !slices.Equal(get(1), []float32{5, 5, 6, 6}) {
		t.Fatalf("after a larger rewrite: used %d, points %v %v", c.rows.used, get(1), get(2))
	}
	s.DeleteVectors(point.NumID(1), 4, []string{"m"})
	if _, ok := s.Vector(point.NumID(1), "m"); ok {
		t.Fatal("point 1 still has its multivector")
	}
	if v, _ := s.Vector(point.NumID(1), "d"); !slices.Equal(v, []float32{9, 9}) {
		t.Fatalf("point 1's dense vector = %v", v)
	}
	s.Delete(point.NumID(2))
	s.Upsert(point.NumID(3), 5, point.Vectors{"m": {1, 2}}, nil) // reuses a slot
	if !slices.Equal(get(3), []float32{1, 2}) {
		t.Fatalf("point 3 = %v", get(3))
	}
	if got := s.StoredVectorBytes(); got != 2*4+2*4 {
		t.Fatalf("StoredVectorBytes = %d, want 16 (point 1's dense vector and point 3's one sub-vector)", got)
	}
	if got := s.IndexUnits("m"); got != 1 {
		t.Fatalf("IndexUnits = %d, want 1", got)
	}
}

// multiStore builds a store with a multivector column of each datatype,
// some points without one, and graphs (with codes when quant is set).
func multiStore(t testing.TB, r *rand.Rand, n int, quant string) (*Store, map[string]VectorSpec) {
	t.Helper()
	specs := map[string]VectorSpec{
		"f32": {Dim: 8, Distance: vector.Cosine, Multi: true},
		"f16": {Dim: 8, Distance: vector.Euclid, Datatype: Float16, Multi: true},
		"u8":  {Dim: 8, Distance: vector.Dot, Datatype: Uint8, Multi: true},
		"t4":  {Dim: 8, Distance: vector.Dot, Datatype: Turbo4, Multi: true},
	}
	s := NewStore(specs)
	for i := range n {
		vecs := point.Vectors{}
		for name, sp := range specs {
			if i%9 == 0 && name == "f16" {
				continue
			}
			vecs[name] = preprocessMulti(sp.Distance, randMulti(r, sp.Datatype, 1+r.IntN(5), sp.Dim), sp.Dim)
		}
		s.Upsert(point.NumID(uint64(i)), 1, vecs, pl(t, fmt.Sprintf(`{"i":%d}`, i)))
	}
	for name := range specs {
		p := IndexParams{M: 8, EfConstruct: 32, IndexingThreshold: 1, Seed: 1}
		if quant != "" {
			p.Quantization = mustQuant(t, quant)
		}
		s.SetIndexParams(name, p)
	}
	buildAll(t, s)
	s.PrepareRead()
	return s, specs
}

// multiAnswers renders the exact and graph answers of a few queries on
// every column, vectors included.
func multiAnswers(t testing.TB, s *Store, specs map[string]VectorSpec) string {
	t.Helper()
	r := rand.New(rand.NewPCG(9, 9))
	var out bytes.Buffer
	for _, name := range []string{"f32", "f16", "u8", "t4"} {
		sp := specs[name]
		q := preprocessMulti(sp.Distance, randMulti(r, sp.Datatype, 2, sp.Dim), sp.Dim)
		for _, exact := range []bool{true, false} {
			for _, h := range must(s.Search(bg, SearchParams{Vector: name, Query: q, Limit: 5, Exact: exact, HnswEf: 64})) {
				rec := s.RecordAt(h.Offset, func(string) bool { return true })
				fmt.Fprintf(&out, "%s %v %.4f %v|", name, rec.ID, h.Score, rec.Vectors[name])
			}
		}
	}
	return out.String()
}

// TestMultiCheckpointRoundTrip: multivector columns of every datatype, with
// their graphs and codes, read back from a checkpoint answer as before,
// in memory and with the columns on disk (the files hold the rows packed).
func TestMultiCheckpointRoundTrip(t *testing.T) {
	for _, q := range []string{"", `{"scalar":{"type":"int8"}}`, `{"product":{"compression":"x4"}}`, `{"binary":{}}`} {
		t.Run("quantization "+q, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			s, specs := multiStore(t, r, 300, q)
			// A rewrite leaves unused room behind; the files are packed.
			// (An update, not an upsert: removing vectors leaves deleted
			// graph nodes, whose vectors a reload does not keep, and the
			// walks around them may differ.)
			s.UpdateVectors(point.NumID(5), 2, point.Vectors{"f32": preprocessMulti(vector.Cosine, randMulti(r, Float32, 7, 8), 8)})
			s.PrepareRead()
			want := multiAnswers(t, s, specs)
			data := checkpointBytes(t, s, 9)
			got, applied, err := ReadCheckpoint(data)
			if err != nil || applied != 9 {
				t.Fatalf("ReadCheckpoint: %v (applied %d)", err, applied)
			}
			if rb := got.RebuiltIndexes(); len(rb) > 0 {
				t.Fatalf("rebuilt %v", rb)
			}
			sameStore(t, s, got)
			if a := multiAnswers(t, got, specs); a != want {
				t.Fatalf("answers after reload:\n%s\nwant\n%s", a, want)
			}

			// The same with every column in a file of its own.
			dir := t.TempDir()
			for name := range specs {
				var buf bytes.Buffer
				if err := s.WriteColumn(name, &buf); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := s.MapColumn(vfs.Default, name, filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
			}
			if a := multiAnswers(t, s, specs); a != want {
				t.Fatalf("answers with mapped columns:\n%s\nwant\n%s", a, want)
			}
			// A sealed segment's data file may be written again after
			// deletes its vector files, written once, do not know of.
			s.Delete(point.NumID(3))
			s.Delete(point.NumID(4))
			s.PrepareRead()
			want = multiAnswers(t, s, specs)
			got, _, err = ReadCheckpointWith(checkpointBytes(t, s, 9), vfs.Default, func(name string) (string, error) { return filepath.Join(dir, name), nil })
			if err != nil {
				t.Fatal(err)
			}
			sameStore(t, s, got)
			if a := multiAnswers(t, got, specs); a != want {
				t.Fatalf("answers after reload on disk:\n%s\nwant\n%s", a, want)
			}
			// Files that do not fit the slots are refused: too short,
			// counts past the file's end, a count that is not the
			// checkpoint's, a slot with a vector and no sub-vectors.
			var good bytes.Buffer
			if err := got.WriteColumn("f32", &good); err != nil {
				t.Fatal(err)
			}
			slot1 := func(k uint32) []byte {
				b := bytes.Clone(good.Bytes())
				binary.LittleEndian.PutUint32(b[4:], k)
				return b
			}
			for name, data := range map[string][]byte{
				"short":      make([]byte, 12),
				"huge count": slot1(1 << 31),
				"other size": slot1(got.columns["f32"].rows.count[1] + 1),
				"no count":   slot1(0),
				"cut":        good.Bytes()[:good.Len()-4],
			} {
				path := filepath.Join(dir, "bad")
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := got.MapColumn(vfs.Default, "f32", path); !errors.Is(err, errkind.ErrCorrupt) {
					t.Fatalf("%s: MapColumn = %v, want corrupt", name, err)
				}
			}
		})
	}
}

// TestMultiGraphRecall: the HNSW graph over multivectors (points as nodes,
// max_sim as the distance) finds what the exact search finds: recall@10 of
// at least 0.9 per distance, and with scalar codes (rescored) too.
func TestMultiGraphRecall(t *testing.T) {
	seed := uint64(77)
	t.Logf("seed %d", seed)
	const n = 1500
	cases := []struct {
		dist  vector.Distance
		dt    Datatype
		quant string
		dim   int
		over  float64 // oversampling of quantized searches (rescored)
	}{
		{vector.Cosine, Float32, "", 16, 0},
		{vector.Dot, Float32, "", 16, 0},
		{vector.Euclid, Float32, "", 16, 0},
		{vector.Manhattan, Float32, "", 16, 0},
		{vector.Cosine, Float16, "", 16, 0},
		{vector.Euclid, Uint8, "", 16, 0},
		{vector.Cosine, Float32, `{"scalar":{"type":"int8"}}`, 16, 2},
		{vector.Euclid, Float32, `{"product":{"compression":"x4"}}`, 16, 2},
		// One bit a dimension: binary codes need more dimensions, and
		// more candidates to rescore.
		{vector.Cosine, Float32, `{"binary":{}}`, 128, 8},
		// turbo4 rows per sub-vector: exact and graph both score codes.
		{vector.Cosine, Turbo4, "", 16, 0},
		{vector.Euclid, Turbo4, `{"turbo":{"bits":"bits2"}}`, 16, 4},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s/%s", c.dist, c.dt, c.quant), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 1))
			dim := c.dim
			base := clusteredVecs(r, 4*n, dim, 0)
			s := NewStore(map[string]VectorSpec{"m": {Dim: dim, Distance: c.dist, Datatype: c.dt, Multi: true}})
			for i := range n {
				k := 2 + r.IntN(6)
				var subs [][]float32
				for range k {
					v := slices.Clone(base[r.IntN(len(base))])
					if c.dt == Uint8 {
						for j := range v {
							v[j] = float32(math.Max(0, math.Min(255, float64(v[j])*20+100)))
						}
					}
					subs = append(subs, v)
				}
				s.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"m": preprocessMulti(c.dist, flat(subs...), dim)}, nil)
			}
			p := IndexParams{M: 16, EfConstruct: 100, IndexingThreshold: 1, Seed: 1}
			if c.quant != "" {
				p.Quantization = mustQuant(t, c.quant)
			}
			s.SetIndexParams("m", p)
			buildAll(t, s)
			s.PrepareRead()
			if !s.HasGraph("m") || s.IndexedVectors() != n {
				t.Fatalf("graph: %v, %d linked", s.HasGraph("m"), s.IndexedVectors())
			}
			if c.quant != "" && s.VectorMemory()["m"].Quantization == "" {
				t.Fatal("no quantized codes were built")
			}
			rescore, over := true, c.over
			found, total := 0, 0
			for range 40 {
				var subs [][]float32
				for range 1 + r.IntN(4) {
					subs = append(subs, slices.Clone(base[r.IntN(len(base))]))
				}
				q := preprocessMulti(c.dist, flat(subs...), dim)
				exact := must(s.Search(bg, SearchParams{Vector: "m", Query: q, Limit: 10, Exact: true}))
				sp := SearchParams{Vector: "m", Query: q, Limit: 10, HnswEf: 128}
				if c.quant != "" {
					sp.Quantization = &quant.SearchParams{Rescore: &rescore, Oversampling: &over}
				}
				approx := must(s.Search(bg, sp))
				want := map[uint32]bool{}
				for _, h := range exact {
					want[h.Offset] = true
				}
				for _, h := range approx {
					if want[h.Offset] {
						found++
					}
				}
				total += len(exact)
			}
			recall := float64(found) / float64(total)
			t.Logf("recall@10 %.3f", recall)
			floor := 0.9
			if c.over >= 8 {
				floor = 0.85 // binary codes (0.91 seen)
			}
			if recall < floor {
				t.Fatalf("recall@10 = %.3f, want at least %.2f", recall, floor)
			}
		})
	}
}

// TestMultiPayloadBlocks: a multivector graph gets payload links
// (payload_m) like any other, and a filter on one payload value walks
// them (the payload-block walk, with the column's max_sim scorer) with
// the recall of an exact search's top 10 at least 0.85.
func TestMultiPayloadBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const dim, n = 16, 1200
	base := clusteredVecs(r, 2000, dim, 0)
	s := NewStore(map[string]VectorSpec{"m": {Dim: dim, Distance: vector.Dot, Multi: true}})
	if err := s.CreateIndex("grp", []byte(`"keyword"`)); err != nil {
		t.Fatal(err)
	}
	s.SetIndexParams("m", IndexParams{M: 16, EfConstruct: 64, IndexingThreshold: 1, FullScanThreshold: 10, PayloadM: 16, Seed: 1})
	multi := func(k int) []float32 {
		var subs [][]float32
		for range k {
			subs = append(subs, base[r.IntN(len(base))])
		}
		return flat(subs...)
	}
	for i := range n {
		s.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"m": multi(1 + r.IntN(4))}, pl(t, fmt.Sprintf(`{"grp":"g%d"}`, i%4)))
	}
	buildAll(t, s)
	s.PrepareRead()
	walks := map[string]int{}
	traceWalk = func(w string) { walks[w]++ }
	defer func() { traceWalk = func(string) {} }()
	found, total := 0, 0
	for i := range 20 {
		f := mustFilter(fmt.Sprintf(`{"must":[{"key":"grp","match":{"value":"g%d"}}]}`, i%4))
		q := multi(2)
		exact := must(s.Search(bg, SearchParams{Vector: "m", Query: q, Limit: 10, Filter: f, Exact: true}))
		want := map[uint32]bool{}
		for _, h := range exact {
			want[h.Offset] = true
		}
		for _, h := range must(s.Search(bg, SearchParams{Vector: "m", Query: q, Limit: 10, Filter: f, HnswEf: 64})) {
			if want[h.Offset] {
				found++
			}
		}
		total += len(exact)
	}
	if walks["block"] == 0 {
		t.Fatalf("no payload-block walk: %v", walks)
	}
	if recall := float64(found) / float64(total); recall < 0.85 {
		t.Fatalf("filtered recall@10 = %.3f (walks %v)", recall, walks)
	}
}
