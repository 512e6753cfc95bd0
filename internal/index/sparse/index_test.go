package sparse

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
)

// vecs is a Source over a slice; a nil entry (no indices, nil values) is
// an empty slot.
type vecs []*point.SparseVector

func (v vecs) Slots() int { return len(v) }
func (v vecs) At(off uint32) (point.SparseVector, bool) {
	if v[off] == nil {
		return point.SparseVector{}, false
	}
	return *v[off], true
}

// randomVectors makes n slots, about a tenth empty, with up to maxNNZ
// entries over dims dimensions (a few empty vectors too), sorted.
func randomVectors(r *rand.Rand, n, dims, maxNNZ int) vecs {
	out := make(vecs, n)
	for i := range out {
		if r.IntN(10) == 0 {
			continue
		}
		out[i] = randomVector(r, dims, r.IntN(maxNNZ+1))
	}
	return out
}

func randomVector(r *rand.Rand, dims, nnz int) *point.SparseVector {
	seen := map[uint32]bool{}
	v := &point.SparseVector{Indices: []uint32{}, Values: []float32{}}
	for len(v.Indices) < min(nnz, dims) {
		d := uint32(r.IntN(dims))
		if seen[d] {
			continue
		}
		seen[d] = true
		v.Indices = append(v.Indices, d)
		v.Values = append(v.Values, float32(r.NormFloat64()))
	}
	s := v.Sorted()
	return &s
}

func seed(t testing.TB) uint64 {
	s := rand.Uint64()
	t.Logf("seed %d", s)
	return s
}

// scoreAll runs Score and collects its visits.
func scoreAll(t testing.TB, ix *Index, q point.SparseVector, n int) map[uint32]float32 {
	t.Helper()
	sc := GetScratch(n)
	defer PutScratch(sc)
	got := map[uint32]float32{}
	err := ix.Prepare(q).Score(context.Background(), sc, func(off uint32, s float32) {
		if _, dup := got[off]; dup {
			t.Fatalf("offset %d visited twice", off)
		}
		got[off] = s
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestScoreMatchesDot: with float32 weights, Score visits exactly the
// vectors sharing a dimension with the query, each with the bits of
// point.SparseVector.Dot (same summation order), and ScoreOne agrees.
func TestScoreMatchesDot(t *testing.T) {
	r := rand.New(rand.NewPCG(seed(t), 1))
	for round := range 20 {
		n, dims := 1+r.IntN(300), 1+r.IntN(60)
		v := randomVectors(r, n, dims, 20)
		ix := Build(v, Float32)
		q := *randomVector(r, dims+5, r.IntN(15))
		got := scoreAll(t, ix, q, n)
		pq := ix.Prepare(q)
		want := 0
		for off, x := range v {
			if x == nil {
				continue
			}
			s, ok := q.Dot(*x)
			one, ok1 := pq.ScoreOne(uint32(off))
			g, ok2 := got[uint32(off)]
			if ok != ok1 || ok != ok2 {
				t.Fatalf("round %d: offset %d: overlap %v, ScoreOne %v, Score %v", round, off, ok, ok1, ok2)
			}
			if !ok {
				continue
			}
			want++
			if math.Float32bits(s) != math.Float32bits(g) || math.Float32bits(s) != math.Float32bits(one) {
				t.Fatalf("round %d: offset %d: Dot %v, Score %v, ScoreOne %v", round, off, s, g, one)
			}
		}
		if len(got) != want {
			t.Fatalf("round %d: %d visits, want %d", round, len(got), want)
		}
	}
}

// TestDatatypes: float16 weights are the rounded weights, uint8 ones are
// within half a step of their list's quantization, as Qdrant's.
func TestDatatypes(t *testing.T) {
	r := rand.New(rand.NewPCG(seed(t), 2))
	v := randomVectors(r, 200, 30, 12)
	for _, dt := range []Datatype{Float16, Uint8} {
		ix := Build(v, dt)
		if ix.Datatype() != dt {
			t.Fatalf("datatype %v", ix.Datatype())
		}
		for d := range uint32(30) {
			var ws []float32
			ix.Each(d, func(off uint32, w float32) bool {
				ws = append(ws, w)
				return true
			})
			var exact []float32
			for _, x := range v {
				if x == nil {
					continue
				}
				if j, ok := slices.BinarySearch(x.Indices, d); ok {
					exact = append(exact, x.Values[j])
				}
			}
			if len(ws) != len(exact) || ix.Len(d) != len(exact) {
				t.Fatalf("%v dim %d: %d weights, want %d", dt, d, len(ws), len(exact))
			}
			mn, step := quantParams(exact)
			for j, w := range ws {
				switch dt {
				case Float16:
					if want := vector.Float16ToFloat32(vector.Float32ToFloat16(exact[j])); w != want {
						t.Fatalf("float16 weight %v, want %v", w, want)
					}
				case Uint8:
					if math.Abs(float64(w-exact[j])) > float64(step)/2+1e-6 || step == 0 && w != mn {
						t.Fatalf("uint8 weight %v for %v (min %v step %v)", w, exact[j], mn, step)
					}
				}
			}
		}
	}
}

func TestParseDatatype(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Datatype
	}{{"", Float32}, {"float32", Float32}, {"turbo4", Float32}, {"float16", Float16}, {"uint8", Uint8}} {
		if got, err := ParseDatatype(c.in); err != nil || got != c.want {
			t.Fatalf("%q: %v, %v", c.in, got, err)
		}
	}
	if _, err := ParseDatatype("int8"); err == nil || err.Error() != "unknown variant `int8`, expected one of `float32`, `uint8`, `float16`, `turbo4`" {
		t.Fatalf("int8: %v", err)
	}
}

func encode(t testing.TB, ix *Index) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := ix.Encode(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// aligned copies b to an 8-byte aligned buffer, as a mapped file is.
func aligned(b []byte) []byte {
	words := make([]uint64, (len(b)+7)/8)
	out := unsafeBytes(words)[:len(b)]
	copy(out, b)
	return out
}

// TestEncodeDecode: every datatype round-trips, copied and in place, to an
// index that answers the same; the size is the layout's.
func TestEncodeDecode(t *testing.T) {
	r := rand.New(rand.NewPCG(seed(t), 3))
	v := randomVectors(r, 500, 80, 25)
	for _, dt := range []Datatype{Float32, Float16, Uint8} {
		ix := Build(v, dt)
		b := encode(t, ix)
		if want := layoutOf(dt, uint64(ix.Dims()), uint64(ix.Postings())).size; uint64(len(b)) != want {
			t.Fatalf("%v: %d bytes, layout says %d", dt, len(b), want)
		}
		for _, inPlace := range []bool{false, true} {
			buf := aligned(b)
			got, err := Decode(buf, inPlace)
			if err != nil {
				t.Fatalf("%v in place %v: %v", dt, inPlace, err)
			}
			if got.Vectors() != ix.Vectors() || got.Dims() != ix.Dims() || got.Postings() != ix.Postings() || got.MaxOffset() != ix.MaxOffset() {
				t.Fatalf("%v: counts differ", dt)
			}
			if !bytes.Equal(encode(t, got), b) {
				t.Fatalf("%v in place %v: does not encode back to its bytes", dt, inPlace)
			}
			if inPlace && len(got.offs) > 0 && &got.offs[0] == nil {
				t.Fatal("nil view")
			}
		}
	}
	empty := Build(vecs{nil, {Indices: []uint32{}, Values: []float32{}}}, Float32)
	got, err := Decode(encode(t, empty), false)
	if err != nil || got.Vectors() != 1 || got.Dims() != 0 {
		t.Fatalf("empty index: %+v, %v", got, err)
	}
}

// TestDecodeRefusesDamage: every truncation, a flipped bit anywhere, and
// well-checksummed files that break the order rules all decode to errors
// matching errkind.ErrCorrupt.
func TestDecodeRefusesDamage(t *testing.T) {
	r := rand.New(rand.NewPCG(seed(t), 4))
	ix := Build(randomVectors(r, 40, 10, 5), Uint8)
	b := encode(t, ix)
	for n := range len(b) {
		if _, err := Decode(b[:n], false); !errors.Is(err, errkind.ErrCorrupt) {
			t.Fatalf("cut at %d of %d: %v", n, len(b), err)
		}
	}
	for i := range len(b) * 8 {
		c := bytes.Clone(b)
		c[i/8] ^= 1 << (i % 8)
		if _, err := Decode(c, false); !errors.Is(err, errkind.ErrCorrupt) {
			t.Fatalf("bit %d flipped: %v", i, err)
		}
	}
	// Rules the checksum does not cover: re-sign after the damage.
	resign := func(c []byte) []byte {
		crc := len(c) - 4
		sum := crcOf(c[:crc])
		c[crc], c[crc+1], c[crc+2], c[crc+3] = byte(sum), byte(sum>>8), byte(sum>>16), byte(sum>>24)
		return c
	}
	l := layoutOf(Uint8, uint64(ix.Dims()), uint64(ix.Postings()))
	cases := map[string]func(c []byte){
		"dimensions out of order": func(c []byte) { copy(c[l.dims:], c[l.dims+4:l.dims+8]) },
		"offsets out of order":    func(c []byte) { copy(c[l.offs+4:l.offs+8], c[l.offs:l.offs+4]) },
		"a list past the end":     func(c []byte) { c[l.starts+8*uint64(ix.Dims())]++ },
		"not finite":              func(c []byte) { copy(c[l.quant:], []byte{0, 0, 0xc0, 0x7f}) },
	}
	for name, damage := range cases {
		c := bytes.Clone(b)
		damage(c)
		if _, err := Decode(resign(c), false); !errors.Is(err, errkind.ErrCorrupt) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// FuzzDecode: any input decodes to an error matching ErrCorrupt or to an
// index whose encoding decodes to itself, and that searches without
// panicking.
func FuzzDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, dt := range []Datatype{Float32, Float16, Uint8} {
		f.Add(encode(f, Build(randomVectors(r, 20, 8, 4), dt)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := Decode(data, false)
		if err != nil {
			if !errors.Is(err, errkind.ErrCorrupt) {
				t.Fatalf("error without ErrCorrupt: %v", err)
			}
			return
		}
		b := encode(t, ix)
		if !bytes.Equal(b, data) {
			t.Fatalf("%x encodes back as %x", data, b)
		}
		q := point.SparseVector{Indices: []uint32{0, 1, 2, 3, 4, 5, 6, 7}, Values: []float32{1, 1, 1, 1, 1, 1, 1, 1}}
		scoreAll(t, ix, q, int(ix.MaxOffset())+1)
	})
}

// TestScoreStopsOnCancel: a search under a context already done visits
// nothing and returns its error; the scratch comes back clean.
func TestScoreStopsOnCancel(t *testing.T) {
	r := rand.New(rand.NewPCG(seed(t), 5))
	n := 5000
	v := randomVectors(r, n, 4, 4)
	ix := Build(v, Float32)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sc := GetScratch(n)
	q := point.SparseVector{Indices: []uint32{0, 1, 2, 3}, Values: []float32{1, 1, 1, 1}}
	visits := 0
	if err := ix.Prepare(q).Score(ctx, sc, func(uint32, float32) { visits++ }); !errors.Is(err, context.Canceled) || visits != 0 {
		t.Fatalf("%v after %d visits", err, visits)
	}
	for i, x := range sc.acc {
		if x != 0 {
			t.Fatalf("scratch left dirty at %d", i)
		}
	}
	PutScratch(sc)
	if got := scoreAll(t, ix, q, n); len(got) == 0 {
		t.Fatal("no visits after a cancelled search")
	}
}
