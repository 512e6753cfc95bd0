package vector

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

func randVec(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.Float64()*2 - 1)
	}
	return v
}

func norm64(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func cosine64(a, b []float32) float64 { return dot64(a, b) / (norm64(a) * norm64(b)) }

// TestRotationBlocks: the dimension is cut greedily into power-of-two
// blocks, as Qdrant's compute_chunk_sizes.
func TestRotationBlocks(t *testing.T) {
	for dim, want := range map[int][]int{
		1: {1}, 63: {32, 16, 8, 4, 2, 1}, 128: {128}, 300: {256, 32, 8, 4},
		700: {512, 128, 32, 16, 8, 4}, 1536: {1024, 512},
	} {
		if got := RotationFor(dim).blocks; !slices.Equal(got, want) {
			t.Errorf("dim %d: blocks %v, want %v", dim, got, want)
		}
	}
}

// TestRotationPermutationsPinned: the permutations are baked into every
// stored turbo code, so their values must never change.
func TestRotationPermutationsPinned(t *testing.T) {
	for dim, want := range map[int]uint64{7: rotPin7, 64: rotPin64, 1000: rotPin1000} {
		h := fnv.New64a()
		var b [4]byte
		for _, p := range RotationFor(dim).perm {
			for _, x := range p {
				binary.LittleEndian.PutUint32(b[:], x)
				h.Write(b[:])
			}
		}
		if got := h.Sum64(); got != want {
			t.Errorf("dim %d: permutations hash %#x, want %#x: stored turbo codes would no longer decode", dim, got, want)
		}
	}
}

// The hashes of the permutations, pinned when they were introduced.
const (
	rotPin7    = 0x9029c6b9c1eb32c2
	rotPin64   = 0x7fccbaa1b99a1585
	rotPin1000 = 0x9178795197649e85
)

// TestRotationIsOrthogonal: lengths and inner products are kept, Inverse
// undoes Apply, and energy in a few coordinates is spread over all of
// them (what the codebooks need).
func TestRotationIsOrthogonal(t *testing.T) {
	const seed = 11
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	for _, dim := range []int{1, 2, 3, 50, 63, 127, 128, 300, 1025} {
		rot := RotationFor(dim)
		a, b := make([]float64, dim), make([]float64, dim)
		var dab, na float64
		for i := range a {
			a[i], b[i] = r.NormFloat64(), r.NormFloat64()
			dab += a[i] * b[i]
			na += a[i] * a[i]
		}
		orig := slices.Clone(a)
		tmp := make([]float64, dim)
		rot.Apply(a, tmp)
		rot.Apply(b, tmp)
		var rab, rna float64
		for i := range a {
			rab += a[i] * b[i]
			rna += a[i] * a[i]
		}
		if math.Abs(rna-na) > 1e-9*na || math.Abs(rab-dab) > 1e-9*na {
			t.Fatalf("dim %d: |a|² %v -> %v, <a,b> %v -> %v", dim, na, rna, dab, rab)
		}
		rot.Inverse(a, tmp)
		for i := range a {
			if math.Abs(a[i]-orig[i]) > 1e-9 {
				t.Fatalf("dim %d: Inverse(Apply(a))[%d] = %v, want %v", dim, i, a[i], orig[i])
			}
		}
	}
	// A unit vector along one axis ends up spread: no coordinate keeps
	// more than a small share of the energy.
	for _, dim := range []int{128, 384, 1000} {
		x, tmp := make([]float64, dim), make([]float64, dim)
		x[dim/3] = 1
		RotationFor(dim).Apply(x, tmp)
		for i, v := range x {
			if v*v > 16/float64(dim) {
				t.Fatalf("dim %d: coordinate %d keeps %.3f of the energy", dim, i, v*v)
			}
		}
	}
}

// TestTQCode: the nearest centroid, extremes saturating, NaN at 0.
func TestTQCode(t *testing.T) {
	for _, bits := range []int{1, 2, 4} {
		cb := TQCodebook(bits)
		for i, c := range cb {
			if got := TQCode(bits, float64(c)); int(got) != i {
				t.Errorf("%d bits: TQCode(centroid %d) = %d", bits, i, got)
			}
		}
		if got := TQCode(bits, -1e30); got != 0 {
			t.Errorf("%d bits: -1e30 -> %d", bits, got)
		}
		if got := TQCode(bits, 1e30); int(got) != len(cb)-1 {
			t.Errorf("%d bits: 1e30 -> %d", bits, got)
		}
		if got := TQCode(bits, math.NaN()); got != 0 {
			t.Errorf("%d bits: NaN -> %d", bits, got)
		}
	}
	if c := TQCode(4, 0); c != 7 {
		t.Errorf("TQCode(4, 0) = %d, want 7 (0 is on the middle boundary)", c)
	}
}

// pairWithSimilarity is Qdrant's generate_random_vector_pair_with_similarity.
func pairWithSimilarity(r *rand.Rand, dim int, sim float32) ([]float32, []float32) {
	a, noise := randVec(r, dim), randVec(r, dim)
	b := make([]float32, dim)
	for i := range b {
		b[i] = sim*a[i] + (1-sim)*noise[i]
	}
	return a, b
}

func encode4(t *Turbo4, v []float32) []byte {
	row := make([]byte, t.RowBytes())
	t.Encode(row, v)
	return row
}

// TestTurbo4Scores holds the bounds of Qdrant's score_approximates_true_
// similarity, score_self_similarity and score_antipodal_is_negative (4
// bits): the asymmetric (query) and symmetric (two rows) estimates of the
// inner product are within 5% of |a||b| (of 1 for Cosine), over the
// dimensions it sweeps; for Euclid the squared distance within 10% of
// |a|²+|b|².
func TestTurbo4Scores(t *testing.T) {
	const seed = 42
	t.Logf("seed %d", seed)
	for _, dim := range []int{127, 128, 300, 512, 513, 1000, 1024, 1025, 2000} {
		r := rand.New(rand.NewPCG(seed, uint64(dim)))
		for _, dist := range []Distance{Dot, Cosine, Euclid} {
			tq := NewTurbo4(dim, dist)
			for _, sim := range []float32{0.2, 0.5, 0.8, 1, -1} {
				a, b := pairWithSimilarity(r, dim, sim)
				if sim == 1 {
					b = slices.Clone(a)
				}
				if sim == -1 {
					b = slices.Clone(a)
					for i := range b {
						b[i] = -b[i]
					}
				}
				a, b = dist.Preprocess(a), dist.Preprocess(b)
				ra, rb := encode4(tq, a), encode4(tq, b)
				q := tq.Query(a)
				asym, sym := float64(q.Score(rb)), float64(-tq.Pair(ra, rb))
				want, tol := dot64(a, b), 0.05*norm64(a)*norm64(b)
				if dist == Euclid {
					want = float64(SquaredL2(a, b))
					asym, sym = asym*asym, float64(tq.Pair(ra, rb))
					tol = 0.1 * (norm64(a)*norm64(a) + norm64(b)*norm64(b))
				}
				if math.Abs(asym-want) > tol || math.Abs(sym-want) > tol {
					t.Fatalf("dim %d %s similarity %v: query %v, pair %v, want %v ± %v", dim, dist, sim, asym, sym, want, tol)
				}
				// A stored vector as a query scores like the pair.
				sq := tq.StoredQuery(ra)
				scale := norm64(a) * norm64(b)
				if dist == Euclid {
					scale = norm64(a)*norm64(a) + norm64(b)*norm64(b)
				}
				if d, p := sq.Dist(rb), tq.Pair(ra, rb); math.Abs(float64(d-p)) > 1e-5*scale {
					t.Fatalf("dim %d %s: stored query %v, pair %v", dim, dist, d, p)
				}
			}
		}
	}
}

// TestTurbo4RankPreservation holds Qdrant's rank_preservation bound: under
// 15% of the candidate pairs swap order.
func TestTurbo4RankPreservation(t *testing.T) {
	const seed = 42
	t.Logf("seed %d", seed)
	for _, dim := range []int{512, 513} {
		for _, dist := range []Distance{Dot, Cosine, Euclid} {
			r := rand.New(rand.NewPCG(seed, uint64(dim)))
			tq := NewTurbo4(dim, dist)
			q := dist.Preprocess(randVec(r, dim))
			var truth, approx []float32
			for i := 1; i <= 10; i++ {
				s := float32(i) / 10
				noise := randVec(r, dim)
				c := make([]float32, dim)
				for j := range c {
					c[j] = s*q[j] + (1-s)*noise[j]
				}
				c = dist.Preprocess(c)
				truth = append(truth, dist.Score(q, c))
				approx = append(approx, tq.Query(q).Score(encode4(tq, c)))
			}
			inv := 0
			for i := range truth {
				for j := i + 1; j < len(truth); j++ {
					if dist.Better(truth[i], truth[j]) != dist.Better(approx[i], approx[j]) {
						inv++
					}
				}
			}
			if inv*100 >= 15*45 {
				t.Errorf("dim %d %s: %d of 45 pairs inverted", dim, dist, inv)
			}
		}
	}
}

// TestTurbo4Decode: a row decodes near its vector (the bounds of Qdrant's
// turbo4 API tests: cosine above 0.9, length within [0.8, 1.25]), with the
// padding hidden, twice the same, and a zero vector as exact zeros.
func TestTurbo4Decode(t *testing.T) {
	const seed = 5
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	for _, dim := range []int{1, 2, 3, 63, 64, 100, 768} {
		for _, dist := range []Distance{Cosine, Dot, Euclid, Manhattan} {
			tq := NewTurbo4(dim, dist)
			v := dist.Preprocess(randVec(r, dim))
			row := encode4(tq, v)
			if err := tq.CheckRow(row); err != nil {
				t.Fatal(err)
			}
			got := tq.Decode(nil, row)
			if len(got) != dim {
				t.Fatalf("dim %d: decoded %d values", dim, len(got))
			}
			if again := tq.Decode(nil, row); !slices.Equal(got, again) {
				t.Fatalf("dim %d: two decodes differ", dim)
			}
			if !slices.Equal(row, encode4(tq, v)) {
				t.Fatalf("dim %d: encoding is not deterministic", dim)
			}
			if ratio := norm64(got) / norm64(v); math.Abs(ratio-1) > 1e-5 {
				t.Fatalf("dim %d %s: decoded length ratio %v", dim, dist, ratio)
			}
			if dim >= 63 {
				if c := cosine64(got, v); c < 0.95 {
					t.Fatalf("dim %d %s: cosine %v", dim, dist, c)
				}
			}
		}
	}
	for _, dist := range []Distance{Cosine, Dot, Euclid, Manhattan} {
		tq := NewTurbo4(64, dist)
		row := encode4(tq, make([]float32, 64))
		got := tq.Decode(nil, row)
		for _, x := range got {
			if x != 0 || math.Signbit(float64(x)) {
				t.Fatalf("%s: zero vector decodes to %v", dist, got)
			}
		}
		q := tq.Query(dist.Preprocess(randVec(r, 64)))
		if s := q.Score(row); math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
			t.Fatalf("%s: score against a zero row %v", dist, s)
		}
	}
}

// TestTurbo4ExtremeMagnitudes: huge, tiny and outlier-dominated vectors
// keep their direction and length (Qdrant's test_turbo4_extreme_
// magnitudes), and score finitely.
func TestTurbo4ExtremeMagnitudes(t *testing.T) {
	r := rand.New(rand.NewPCG(52, 1))
	const dim = 64
	tq := NewTurbo4(dim, Dot)
	scale := func(v []float32, k float32) []float32 {
		for i := range v {
			v[i] *= k
		}
		return v
	}
	outlier := randVec(r, dim)
	outlier[0] = 1e6
	for name, v := range map[string][]float32{
		"huge": scale(randVec(r, dim), 1e30), "tiny": scale(randVec(r, dim), 1e-30), "outlier": outlier,
		"constant": slices.Repeat([]float32{0.5}, dim),
	} {
		row := encode4(tq, v)
		got := tq.Decode(nil, row)
		for _, x := range got {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("%s: decoded %v", name, got)
			}
		}
		if c := cosine64(got, v); c < 0.9 {
			t.Fatalf("%s: cosine %v", name, c)
		}
		if ratio := norm64(got) / norm64(v); ratio < 0.8 || ratio > 1.25 {
			t.Fatalf("%s: length ratio %v", name, ratio)
		}
		if s := tq.Query(randVec(r, dim)).Score(row); math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
			t.Fatalf("%s: score %v", name, s)
		}
	}
}

// TestTurbo4Manhattan: Manhattan scores are the L1 distance to the decoded
// vector, the query kept as given.
func TestTurbo4Manhattan(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 1))
	tq := NewTurbo4(40, Manhattan)
	a, b := randVec(r, 40), randVec(r, 40)
	ra, rb := encode4(tq, a), encode4(tq, b)
	if got, want := tq.Query(a).Score(rb), L1(a, tq.Decode(nil, rb)); got != want {
		t.Fatalf("query score %v, want %v", got, want)
	}
	if got, want := tq.Pair(ra, rb), L1(tq.Decode(nil, ra), tq.Decode(nil, rb)); got != want {
		t.Fatalf("pair %v, want %v", got, want)
	}
	if got := tq.StoredQuery(ra).Dist(rb); got != tq.Pair(ra, rb) {
		t.Fatalf("stored query %v, pair %v", got, tq.Pair(ra, rb))
	}
}

// TestTurbo4CheckRow refuses rows Encode cannot write.
func TestTurbo4CheckRow(t *testing.T) {
	tq := NewTurbo4(10, Dot)
	good := encode4(tq, randVec(rand.New(rand.NewPCG(1, 1)), 10))
	if err := tq.CheckRow(good); err != nil {
		t.Fatal(err)
	}
	bad := func(s, n float32) []byte {
		row := slices.Clone(good)
		binary.LittleEndian.PutUint32(row[tq.codes:], math.Float32bits(s))
		binary.LittleEndian.PutUint32(row[tq.codes+4:], math.Float32bits(n))
		return row
	}
	for name, row := range map[string][]byte{
		"short": good[:len(good)-1], "long": append(slices.Clone(good), 0),
		"nan scale": bad(float32(math.NaN()), 1), "negative length": bad(1, -1), "infinite scale": bad(float32(math.Inf(1)), 1),
	} {
		if err := tq.CheckRow(row); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzTurbo4Row: any row CheckRow accepts decodes and scores without
// panicking.
func FuzzTurbo4Row(f *testing.F) {
	tq := NewTurbo4(37, Euclid)
	f.Add(encode4(tq, randVec(rand.New(rand.NewPCG(1, 1)), 37)))
	f.Add(make([]byte, tq.RowBytes()))
	f.Fuzz(func(t *testing.T, row []byte) {
		for _, dist := range []Distance{Cosine, Dot, Euclid, Manhattan} {
			tq := NewTurbo4(37, dist)
			if tq.CheckRow(row) != nil {
				continue
			}
			_ = tq.Decode(nil, row)
			_ = tq.Query(make([]float32, 37)).Score(row)
			_ = tq.Pair(row, row)
		}
	})
}

func BenchmarkTurbo4(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, dim := range []int{128, 768} {
		tq := NewTurbo4(dim, Cosine)
		v := Cosine.Preprocess(randVec(r, dim))
		row := encode4(tq, v)
		q := tq.Query(v)
		b.Run("encode/"+strconv.Itoa(dim), func(b *testing.B) {
			for b.Loop() {
				tq.Encode(row, v)
			}
		})
		b.Run("query/"+strconv.Itoa(dim), func(b *testing.B) {
			for b.Loop() {
				tq.Query(v)
			}
		})
		b.Run("score/"+strconv.Itoa(dim), func(b *testing.B) {
			for b.Loop() {
				sinkF = q.Score(row)
			}
		})
		b.Run("pair/"+strconv.Itoa(dim), func(b *testing.B) {
			for b.Loop() {
				sinkF = tq.Pair(row, row)
			}
		})
	}
}

func BenchmarkRotation(b *testing.B) {
	for _, dim := range []int{128, 768, 1536} {
		r := RotationFor(dim)
		x, tmp := make([]float64, dim), make([]float64, dim)
		for i := range x {
			x[i] = float64(i%7) - 3
		}
		b.Run(strconv.Itoa(dim), func(b *testing.B) {
			for b.Loop() {
				r.Apply(x, tmp)
			}
		})
	}
}

// TestTurbo4ScoringDoesNotAllocate: a graph scores through T4Query.Dist
// and Turbo4.Pair on every step (package hnsw's Scorer contract).
func TestTurbo4ScoringDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 1))
	for _, dist := range []Distance{Cosine, Dot, Euclid, Manhattan} {
		tq := NewTurbo4(100, dist)
		a, b := encode4(tq, randVec(r, 100)), encode4(tq, randVec(r, 100))
		q := tq.Query(randVec(r, 100))
		var s float32
		if n := testing.AllocsPerRun(100, func() { s += q.Dist(a) + q.Score(b) }); n != 0 {
			t.Errorf("%s: T4Query allocates %v times a call", dist, n)
		}
		if dist != Manhattan { // Manhattan decodes through a sync.Pool
			if n := testing.AllocsPerRun(100, func() { s += tq.Pair(a, b) }); n != 0 {
				t.Errorf("%s: Pair allocates %v times a call", dist, n)
			}
		}
		_ = s
	}
}
