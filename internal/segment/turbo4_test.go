package segment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vector/quant"
)

func cos64(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return d / math.Sqrt(na*nb)
}

func uniformVec(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.Float64()*2 - 1)
	}
	return v
}

var turboDists = []vector.Distance{vector.Cosine, vector.Dot, vector.Euclid, vector.Manhattan}

// turboStore is a store with one turbo4 column per distance ("Cosine",
// "Dot", ...) of dim dimensions and n points (seeded uniform vectors,
// preprocessed), which it also returns by id.
func turboStore(t testing.TB, seed uint64, n, dim int) (*Store, map[uint64]point.Vectors) {
	t.Helper()
	specs := map[string]VectorSpec{}
	for _, d := range turboDists {
		specs[string(d)] = VectorSpec{Dim: dim, Distance: d, Datatype: Turbo4}
	}
	s := NewStore(specs)
	r := rand.New(rand.NewPCG(seed, 1))
	orig := map[uint64]point.Vectors{}
	for i := range n {
		vecs := point.Vectors{}
		for _, d := range turboDists {
			vecs[string(d)] = d.Preprocess(uniformVec(r, dim))
		}
		orig[uint64(i)] = vecs
		s.Upsert(point.NumID(uint64(i)), 1, vecs, nil)
	}
	s.PrepareRead()
	return s, orig
}

// TestTurbo4Column: vectors read back decoded (near what was written:
// Qdrant's API tests hold cosine above 0.9 and the length within [0.8,
// 1.25]), the same on every read; a partial update leaves the other
// columns' rows untouched; exact search scores are the codec's.
func TestTurbo4Column(t *testing.T) {
	const seed, n, dim = 42, 50, 64
	t.Logf("seed %d", seed)
	s, orig := turboStore(t, seed, n, dim)
	all := func(string) bool { return true }
	for id, vecs := range orig {
		rec, ok := s.Get(point.NumID(id), all)
		if !ok {
			t.Fatalf("point %d missing", id)
		}
		for name, v := range vecs {
			got := rec.Vectors[name]
			if len(got) != dim || cos64(got, v) < 0.9 {
				t.Fatalf("point %d %s: cosine %v", id, name, cos64(got, v))
			}
			if ratio := math.Sqrt(float64(vector.DotProduct(got, got)) / float64(vector.DotProduct(v, v))); ratio < 0.8 || ratio > 1.25 {
				t.Fatalf("point %d %s: length ratio %v", id, name, ratio)
			}
			if again, _ := s.Vector(point.NumID(id), name); !slices.Equal(again, got) {
				t.Fatalf("point %d %s: two reads differ", id, name)
			}
		}
	}

	before, _ := s.Get(point.NumID(2), all)
	newDot := uniformVec(rand.New(rand.NewPCG(seed, 2)), dim)
	s.UpdateVectors(point.NumID(2), 2, point.Vectors{"Dot": newDot})
	after, _ := s.Get(point.NumID(2), all)
	for _, d := range turboDists {
		name := string(d)
		if name == "Dot" {
			if cos64(after.Vectors[name], newDot) < 0.9 {
				t.Fatalf("updated vector: cosine %v", cos64(after.Vectors[name], newDot))
			}
			continue
		}
		if !slices.Equal(after.Vectors[name], before.Vectors[name]) {
			t.Fatalf("%s changed by an update of Dot", name)
		}
	}

	q := uniformVec(rand.New(rand.NewPCG(seed, 3)), dim)
	for _, d := range turboDists {
		pq := d.Preprocess(q)
		hits := must(s.Search(bg, SearchParams{Vector: string(d), Query: pq, Limit: n, Exact: true}))
		if len(hits) != n {
			t.Fatalf("%s: %d hits", d, len(hits))
		}
		c := s.columns[string(d)]
		tq := c.t4.Query(pq)
		for i, h := range hits {
			if want := tq.Score(c.rowTQ(h.Offset)); h.Score != want {
				t.Fatalf("%s hit %d: score %v, codec %v", d, i, h.Score, want)
			}
			if i > 0 && d.Better(h.Score, hits[i-1].Score) {
				t.Fatalf("%s: hits out of order", d)
			}
		}
	}
	if m := s.VectorMemory()["Cosine"]; m.Datatype != Turbo4 || m.VectorBytes != int64(n*(32+8)) {
		t.Fatalf("memory: %+v", m)
	}
	// Qdrant's measure: 32 bytes of codes, 4 of scale, 4 more for Euclid.
	if got, want := s.StoredVectorBytes(), int64(n*(3*36+40)); got != want {
		t.Fatalf("StoredVectorBytes %d, want %d", got, want)
	}
}

// rowsOf is every turbo4 row of s by column and id.
func rowsOf(s *Store) map[string][]byte {
	out := map[string][]byte{}
	for name, c := range s.columns {
		for id, off := range s.offsets {
			if c.has[off] {
				out[name+"/"+id.String()] = slices.Clone(c.rowTQ(off))
			}
		}
	}
	return out
}

// TestTurbo4RowsMoveAsBytes: the optimizer's copy and a checkpoint round
// trip keep every row byte for byte. Decoding and quantizing again would
// not: the test first checks that this data tells the two apart.
func TestTurbo4RowsMoveAsBytes(t *testing.T) {
	const seed = 7
	t.Logf("seed %d", seed)
	s, _ := turboStore(t, seed, 40, 33)
	want := rowsOf(s)
	requantized := 0
	for name, c := range s.columns {
		for _, off := range s.offsets {
			row := make([]byte, c.t4.RowBytes())
			c.t4.Encode(row, c.get(off))
			if !bytes.Equal(row, c.rowTQ(off)) {
				requantized++
			}
		}
		_ = name
	}
	if requantized == 0 {
		t.Fatal("decode+encode gives back every row: the test cannot tell a copy from a requantization")
	}

	dst := NewStore(map[string]VectorSpec{
		"Cosine": {Dim: 33, Distance: vector.Cosine, Datatype: Turbo4}, "Dot": {Dim: 33, Distance: vector.Dot, Datatype: Turbo4},
		"Euclid": {Dim: 33, Distance: vector.Euclid, Datatype: Turbo4}, "Manhattan": {Dim: 33, Distance: vector.Manhattan, Datatype: Turbo4},
	})
	s.Delete(point.NumID(5))
	delete(want, "Cosine/5")
	delete(want, "Dot/5")
	delete(want, "Euclid/5")
	delete(want, "Manhattan/5")
	s.CopyLive(dst)
	if got := rowsOf(dst); !mapsEqualBytes(got, want) {
		t.Fatalf("CopyLive changed rows (%d rows, want %d)", len(got), len(want))
	}

	re, _, err := ReadCheckpoint(checkpointBytes(t, dst, 3))
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsOf(re); !mapsEqualBytes(got, want) {
		t.Fatal("a checkpoint round trip changed rows")
	}
	// Into a column of another datatype the decoded vector goes.
	f32 := NewStore(map[string]VectorSpec{"Dot": {Dim: 33, Distance: vector.Dot}})
	dst.CopyLive(f32)
	for id, off := range dst.offsets {
		want, _ := dst.Vector(id, "Dot")
		got, _ := f32.Vector(id, "Dot")
		if !slices.Equal(got, want) {
			t.Fatalf("point %s: float32 copy %v, want the decoded %v", id, got[:3], want[:3])
		}
		_ = off
	}
}

func mapsEqualBytes(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestTurbo4CheckpointRefusesBadRows: a row no encoder wrote (a NaN
// scale), behind a valid checksum, is corrupt.
func TestTurbo4CheckpointRefusesBadRows(t *testing.T) {
	s := NewStore(map[string]VectorSpec{"t": {Dim: 3, Distance: vector.Dot, Datatype: Turbo4}})
	s.Upsert(point.NumID(1), 1, point.Vectors{"t": {1, 2, 3}}, nil)
	data := checkpointBytes(t, s, 1)
	row := s.columns["t"].rowTQ(0)
	at := bytes.Index(data, row)
	if at < 0 {
		t.Fatal("row not found in the checkpoint")
	}
	bad := bytes.Clone(data[:len(data)-4])
	binary.LittleEndian.PutUint32(bad[at+16:], math.Float32bits(float32(math.NaN())))
	if _, _, err := ReadCheckpoint(withCRC(bad)); !errors.Is(err, errkind.ErrCorrupt) {
		t.Fatalf("NaN scale: err = %v", err)
	}
}

// TestTurbo4Graph: an HNSW graph over turbo4 rows (linked by the codes'
// symmetric estimate, searched with the rotated query) finds what an exact
// scan of the same codes finds, and a stored point's own original vector
// finds it first (Qdrant's test_turbo4_indexed_search: top hit, score
// above 0.95 for Cosine).
func TestTurbo4Graph(t *testing.T) {
	const seed, n, dim = 11, 1500, 64
	t.Logf("seed %d", seed)
	s, orig := turboStore(t, seed, n, dim)
	for _, d := range turboDists {
		s.SetIndexParams(string(d), IndexParams{M: 16, EfConstruct: 64, IndexingThreshold: 10, Seed: seed})
	}
	buildAll(t, s)
	if got := s.IndexedVectors(); got != 4*n {
		t.Fatalf("indexed %d vectors, want %d", got, 4*n)
	}
	r := rand.New(rand.NewPCG(seed, 9))
	for _, d := range turboDists {
		name := string(d)
		hits, total := 0, 0
		for range 20 {
			q := d.Preprocess(uniformVec(r, dim))
			exact := must(s.Search(bg, SearchParams{Vector: name, Query: q, Limit: 10, Exact: true}))
			graph := must(s.Search(bg, SearchParams{Vector: name, Query: q, Limit: 10, HnswEf: 64}))
			for _, h := range graph {
				if slices.ContainsFunc(exact, func(e Scored) bool { return e.Offset == h.Offset }) {
					hits++
				}
			}
			total += len(exact)
		}
		if recall := float64(hits) / float64(total); recall < 0.9 {
			t.Errorf("%s: graph recall@10 %.3f against an exact scan of the codes", d, recall)
		}
		id := uint64(17)
		top := must(s.Search(bg, SearchParams{Vector: name, Query: orig[id][name], Limit: 1, HnswEf: 64}))
		if len(top) != 1 || s.ids[top[0].Offset] != point.NumID(id) {
			t.Errorf("%s: the stored point's own vector finds %v", d, top)
		}
		if d == vector.Cosine && top[0].Score < 0.95 {
			t.Errorf("Cosine: self score %v", top[0].Score)
		}
	}
}

// TestTurbo4UnderQuantization: quantization codes are built from the
// decoded vectors of a turbo4 column, and rescoring scores with the turbo4
// rows (Qdrant layers any quantization over turbo4).
func TestTurbo4UnderQuantization(t *testing.T) {
	const seed, n, dim = 13, 400, 32
	t.Logf("seed %d", seed)
	for _, cfg := range []string{`{"binary":{}}`, `{"turbo":{"bits":"bits2"}}`} {
		s, _ := turboStore(t, seed, n, dim)
		s.SetIndexParams("Cosine", IndexParams{M: 8, EfConstruct: 32, IndexingThreshold: 10, Seed: 1, Quantization: mustQuant(t, cfg)})
		buildAll(t, s)
		if m := s.VectorMemory()["Cosine"]; m.Quantization == "" || m.Datatype != Turbo4 {
			t.Fatalf("%s: memory %+v", cfg, m)
		}
		q := vector.Cosine.Preprocess(uniformVec(rand.New(rand.NewPCG(seed, 4)), dim))
		rescore := true
		hits := must(s.Search(bg, SearchParams{Vector: "Cosine", Query: q, Limit: 10, HnswEf: 64,
			Quantization: &quant.SearchParams{Rescore: &rescore}}))
		c := s.columns["Cosine"]
		tq := c.t4.Query(q)
		for _, h := range hits {
			if want := tq.Score(c.rowTQ(h.Offset)); h.Score != want {
				t.Fatalf("%s: rescored %v, turbo4 score %v", cfg, h.Score, want)
			}
		}
		if len(hits) != 10 {
			t.Fatalf("%s: %d hits", cfg, len(hits))
		}
	}
}

// multiRowsOf is every turbo4 multivector's rows by column and id.
func multiRowsOf(s *Store) map[string][]byte {
	out := map[string][]byte{}
	for name, c := range s.columns {
		for id, off := range s.offsets {
			if c.has[off] {
				e, n := c.span(off)
				out[name+"/"+id.String()] = slices.Clone(c.tq[c.elemsBytes(e):c.elemsBytes(e+n)])
			}
		}
	}
	return out
}

// TestTurbo4Multivector: a turbo4 multivector keeps a row per sub-vector;
// each reads back near what was written, an exact search scores max_sim
// over the codes (the oracle: per query sub-vector, the best codec score
// among the stored rows, summed; Euclid's square root of the summed
// squared distances), a smaller rewrite reads back right, and the
// optimizer's copy keeps the rows byte for byte.
func TestTurbo4Multivector(t *testing.T) {
	const seed, n, dim = 21, 30, 16
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	specs := map[string]VectorSpec{
		"Cosine": {Dim: dim, Distance: vector.Cosine, Datatype: Turbo4, Multi: true},
		"Euclid": {Dim: dim, Distance: vector.Euclid, Datatype: Turbo4, Multi: true},
	}
	s := NewStore(specs)
	orig := map[uint64]point.Vectors{}
	for i := range n {
		vecs := point.Vectors{}
		for name, sp := range specs {
			vecs[name] = preprocessMulti(sp.Distance, randMulti(r, Float32, 1+i%4, dim), dim)
		}
		orig[uint64(i)] = vecs
		s.Upsert(point.NumID(uint64(i)), 1, vecs, nil)
	}
	s.PrepareRead()
	for id, vecs := range orig {
		for name, v := range vecs {
			got, _ := s.Vector(point.NumID(id), name)
			if len(got) != len(v) {
				t.Fatalf("point %d %s: %d values, want %d", id, name, len(got), len(v))
			}
			for j := 0; j < len(v); j += dim {
				if c := cos64(got[j:j+dim], v[j:j+dim]); c < 0.9 {
					t.Fatalf("point %d %s sub-vector %d: cosine %v", id, name, j/dim, c)
				}
			}
		}
	}
	for name, sp := range specs {
		q := preprocessMulti(sp.Distance, randMulti(r, Float32, 2, dim), dim)
		c := s.columns[name]
		qs := []*vector.T4Query{c.t4.Query(q[:dim]), c.t4.Query(q[dim:])}
		for _, h := range must(s.Search(bg, SearchParams{Vector: name, Query: q, Limit: n, Exact: true})) {
			e, k := c.span(h.Offset)
			var sum float64
			for _, tq := range qs {
				best := math.Inf(1)
				for j := e / dim; j < (e+k)/dim; j++ {
					best = math.Min(best, float64(tq.Dist(c.tqRow(j))))
				}
				sum += best
			}
			want := -sum
			if sp.Distance == vector.Euclid {
				want = math.Sqrt(math.Abs(sum))
			}
			if math.Abs(float64(h.Score)-want) > 1e-4*math.Max(1, math.Abs(want)) {
				t.Fatalf("%s point %v: score %v, oracle %v", name, s.ids[h.Offset], h.Score, want)
			}
		}
	}
	one := preprocessMulti(vector.Cosine, randMulti(r, Float32, 1, dim), dim)
	s.UpdateVectors(point.NumID(3), 2, point.Vectors{"Cosine": one})
	if got, _ := s.Vector(point.NumID(3), "Cosine"); len(got) != dim || cos64(got, one) < 0.9 {
		t.Fatalf("rewritten multivector: %d values", len(got))
	}

	want := multiRowsOf(s)
	dst := NewStore(specs)
	s.CopyLive(dst)
	if got := multiRowsOf(dst); !mapsEqualBytes(got, want) {
		t.Fatalf("CopyLive changed turbo4 multivector rows (%d, want %d)", len(got), len(want))
	}
	re, _, err := ReadCheckpoint(checkpointBytes(t, dst, 1))
	if err != nil {
		t.Fatal(err)
	}
	if got := multiRowsOf(re); !mapsEqualBytes(got, want) {
		t.Fatal("a checkpoint round trip changed turbo4 multivector rows")
	}
}
