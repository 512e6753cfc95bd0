package hnsw

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/vector"
)

// encoded builds a small graph with holes, deletions and upper levels.
func encoded(t testing.TB) (*Graph, *flat, []byte) {
	t.Helper()
	vecs := clustered(5, 600, 8, 6, vector.Cosine)
	var offs []uint32
	for i := range uint32(600) {
		if i%7 != 3 { // holes: offsets not in the graph
			offs = append(offs, i)
		}
	}
	g := mustBuild(t, Config{M: 4, EfConstruct: 16, Distance: vector.Cosine, Dim: 8, Seed: 5, FullScanThreshold: 10}, vecs, offs, 1)
	for _, off := range offs[:40] {
		g.Delete(off)
	}
	var buf bytes.Buffer
	if err := g.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	return g, vecs, buf.Bytes()
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	g, vecs, b := encoded(t)
	h, err := Decode(bytes.NewReader(b), vecs)
	if err != nil {
		t.Fatal(err)
	}
	if dump(g) != dump(h) || g.Len() != h.Len() || g.Config() != h.Config() {
		t.Fatal("decoded graph differs")
	}
	qs := clustered(6, 50, 8, 6, vector.Cosine)
	for i := range uint32(50) {
		q := qs.Vector(i)
		for _, allow := range []func(uint32) bool{nil, func(off uint32) bool { return off%3 == 0 }} {
			if a, b := must(g.Search(bg, q, 10, 20, allow)), must(h.Search(bg, q, 10, 20, allow)); !slices.Equal(a, b) {
				t.Fatalf("query %d: %v vs %v", i, a, b)
			}
		}
	}
	// The level generator continues where it stopped: same next inserts.
	for _, gr := range []*Graph{g, h} {
		for off := uint32(3); off < 600; off += 7 {
			if err := gr.Insert(off); err != nil {
				t.Fatal(err)
			}
		}
	}
	if dump(g) != dump(h) {
		t.Fatal("inserts after decode diverge")
	}
	var again bytes.Buffer
	if err := h.Encode(&again); err != nil {
		t.Fatal(err)
	}
}

func TestEncodeEmpty(t *testing.T) {
	g, err := New(Config{Distance: vector.Dot, Dim: 3}, &flat{dim: 3})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := g.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	h, err := Decode(&buf, &flat{dim: 3})
	if err != nil {
		t.Fatal(err)
	}
	if h.Len() != 0 || must(h.Search(bg, []float32{1, 2, 3}, 3, 10, nil)) != nil {
		t.Fatal("empty graph not empty after decode")
	}
}

func TestDecodeRejectsDamage(t *testing.T) {
	_, vecs, b := encoded(t)
	cases := map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XHOALHNS"), b[8:]...),
		"truncated": b[:len(b)/2],
		"no crc":    b[:len(b)-4],
		"flipped":   flip(b, len(b)/2),
		"crc":       flip(b, len(b)-1),
	}
	for name, in := range cases {
		if _, err := Decode(bytes.NewReader(in), vecs); !errors.Is(err, errkind.ErrCorrupt) {
			t.Errorf("%s: %v, want errkind.ErrCorrupt", name, err)
		}
	}
	// Structural damage under a valid checksum is caught by validation.
	bad := resum(flip(b, len(b)-40))
	if _, err := Decode(bytes.NewReader(bad), vecs); err == nil {
		t.Log("a flipped link byte happened to stay valid") // allowed: still a consistent graph
	}
}

func flip(b []byte, i int) []byte {
	c := slices.Clone(b)
	c[i] ^= 0x5a
	return c
}

// resum rewrites the CRC trailer so the fuzzer reaches the structural checks.
func resum(b []byte) []byte {
	if len(b) < 4 {
		return b
	}
	c := slices.Clone(b)
	binary.LittleEndian.PutUint32(c[len(c)-4:], crc32.Checksum(c[:len(c)-4], castagnoli))
	return c
}

// anyVectors serves one zero vector for any offset, so a fuzzed graph can be
// searched whatever links it has.
type anyVectors struct{ v []float32 }

// headerDim reads the dimension field of an encoding, so the fuzzer's
// vectors have the length its header claims.
func headerDim(b []byte) int {
	if len(b) < 28 {
		return 0
	}
	return int(min(binary.LittleEndian.Uint32(b[24:]), maxDim))
}

func (a anyVectors) Vector(uint32) []float32 { return a.v }

func FuzzDecode(f *testing.F) {
	_, _, b := encoded(f)
	f.Add(b)
	f.Add(b[:100])
	g, err := New(Config{Distance: vector.Euclid, Dim: 2}, &flat{dim: 2})
	if err != nil {
		f.Fatal(err)
	}
	var empty bytes.Buffer
	if err := g.Encode(&empty); err != nil {
		f.Fatal(err)
	}
	f.Add(empty.Bytes())
	f.Add(encodedWithPayload(f))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, data := range [][]byte{in, resum(in)} {
			vecs := anyVectors{make([]float32, headerDim(data))}
			g, err := Decode(bytes.NewReader(data), vecs)
			if err != nil {
				continue
			}
			// A graph that decodes must be safe to search and re-encode.
			q := make([]float32, g.Config().Dim)
			must(g.Search(bg, q, 5, 10, nil))
			must(g.Search(bg, q, 5, 10, func(off uint32) bool { return off%2 == 0 }))
			must(g.SearchExact(bg, q, 5, nil))
			must(g.SearchPayloadBlock(bg, q, 5, 10, func(off uint32) bool { return off%3 == 0 }))
			var out bytes.Buffer
			if err := g.Encode(&out); err != nil {
				t.Fatal(err)
			}
		}
	})
}
