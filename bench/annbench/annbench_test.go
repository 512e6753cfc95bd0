package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/vector"
)

// idxBytes encodes an unsigned-byte IDX file of the given shape.
func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x08, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func TestParseIDX(t *testing.T) {
	pixels := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255}
	plain := idxBytes([]int{3, 2, 2}, pixels)
	for name, in := range map[string][]byte{"plain": plain, "gzip": gz(plain)} {
		t.Run(name, func(t *testing.T) {
			x, err := parseIDX(bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			n, dim, v := x.rows()
			if n != 3 || dim != 4 || len(v) != 12 {
				t.Fatalf("rows() = %d x %d (%d values), want 3 x 4", n, dim, len(v))
			}
			if v[5] != 5 || v[11] != 255 {
				t.Fatalf("values %v", v)
			}
		})
	}
	bad := map[string][]byte{
		"empty":      nil,
		"bad magic":  append([]byte{1}, plain[1:]...),
		"float type": append([]byte{0, 0, 0x0d}, plain[3:]...),
		"rank 0":     {0, 0, 0x08, 0},
		"truncated":  plain[:len(plain)-1],
		"trailing":   append(slices.Clone(plain), 0),
		"short dims": plain[:9],
	}
	for name, in := range bad {
		if _, err := parseIDX(bytes.NewReader(in)); !errors.Is(err, errIDX) {
			t.Errorf("%s: err = %v, want errIDX", name, err)
		}
	}
}

func TestRecall(t *testing.T) {
	truth := []uint32{1, 2, 3, 4, 5, 6}
	for _, tc := range []struct {
		name  string
		found []uint32
		want  float64
	}{
		{"exact", []uint32{1, 2, 3, 4, 5, 6}, 1},
		{"order ignored", []uint32{3, 1, 2, 6, 5, 4}, 1},
		{"half", []uint32{1, 9, 9, 4, 9, 9}, 1.0 / 3},
		{"missing slots", []uint32{1, 2, noID, noID, noID, noID}, 2.0 / 6},
		{"none", []uint32{7, 8, 9, 10, 11, 12}, 0},
	} {
		if got := recall(tc.found, truth, 3); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: recall = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestQPSAtRecall(t *testing.T) {
	curve := []curvePoint{
		{Ef: 16, Recall: 0.90, QPS: 10000},
		{Ef: 32, Recall: 0.96, QPS: 6000},
		{Ef: 64, Recall: 0.99, QPS: 3000},
		{Ef: 128, Recall: 0.995, QPS: 1500},
	}
	for _, tc := range []struct {
		level float64
		want  atRecall
	}{
		{0.93, atRecall{QPS: 8000, Reached: true}},
		{0.95, atRecall{QPS: 10000 - 4000*(0.05/0.06), Reached: true}},
		{0.99, atRecall{QPS: 3000, Reached: true}},
		{0.85, atRecall{QPS: 10000, Reached: true, AtLeast: true}},
		{0.999, atRecall{}},
	} {
		got := qpsAtRecall(curve, tc.level)
		if got.Reached != tc.want.Reached || got.AtLeast != tc.want.AtLeast || math.Abs(got.QPS-tc.want.QPS) > 1e-6 {
			t.Errorf("at %v: %+v, want %+v", tc.level, got, tc.want)
		}
	}
	if s := ratioText(qpsAtRecall(curve, 0.999), qpsAtRecall(curve, 0.9)); s != "not reached by Shoal" {
		t.Errorf("ratioText = %q", s)
	}
	if s := ratioText(qpsAtRecall(curve, 0.99), atRecall{QPS: 1500, Reached: true}); s != "2.00" {
		t.Errorf("ratioText = %q", s)
	}
}

// TestBruteForce checks the heap-based scan against a full sort.
func TestBruteForce(t *testing.T) {
	for _, d := range []vector.Distance{vector.Euclid, vector.Cosine} {
		ds := synthetic(synthParams{n: 500, nq: 20, dim: 16, clusters: 7, spread: 0.5, seed: 3, distance: d})
		const k = 7
		got := bruteForce(ds, k, 2, nil)
		dist := distFunc(d)
		for i := range ds.nq() {
			ids := make([]uint32, ds.n())
			for j := range ids {
				ids[j] = uint32(j)
			}
			q := ds.query(i)
			slices.SortStableFunc(ids, func(a, b uint32) int {
				da, db := dist(q, ds.baseVec(int(a))), dist(q, ds.baseVec(int(b)))
				switch {
				case da < db:
					return -1
				case da > db:
					return 1
				}
				return 0
			})
			if row := got[i*k : (i+1)*k]; !slices.Equal(row, ids[:k]) {
				t.Fatalf("%s query %d: %v, want %v", d, i, row, ids[:k])
			}
		}
	}
}

func TestGroundTruthCache(t *testing.T) {
	dir := t.TempDir()
	ds := synthetic(synthParams{n: 200, nq: 5, dim: 8, clusters: 3, spread: 1, seed: 1, distance: vector.Cosine})
	logf := func(string, ...any) {}
	a, err := groundTruth(dir, ds, 4, 1, logf)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // second call reads the cache
		b, err := groundTruth(dir, ds, 4, 1, logf)
		if err != nil || !slices.Equal(a, b) {
			t.Fatalf("cached ground truth differs (%v)", err)
		}
	}
	if _, ok := decodeGT([]byte("SGT1"), 5, 4); ok {
		t.Fatal("decodeGT accepted a truncated file")
	}
}

func TestSynthetic(t *testing.T) {
	p := synthParams{n: 100, nq: 10, dim: 12, clusters: 4, spread: 0.3, seed: 9, distance: vector.Cosine}
	a, b := synthetic(p), synthetic(p)
	if !slices.Equal(a.base, b.base) || !slices.Equal(a.queries, b.queries) {
		t.Fatal("same seed, different data")
	}
	for i := range a.n() {
		if n := vector.DotProduct(a.baseVec(i), a.baseVec(i)); math.Abs(float64(n)-1) > 1e-5 {
			t.Fatalf("vector %d has squared norm %v", i, n)
		}
	}
	p.seed = 10
	if c := synthetic(p); slices.Equal(a.base, c.base) {
		t.Fatal("different seed, same data")
	}
}
