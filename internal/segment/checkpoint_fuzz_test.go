package segment

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vector/quant"
)

// FuzzReadCheckpoint checks that ReadCheckpoint never panics and fails only
// with errkind.ErrCorrupt, on the input as given and on the input with its checksum
// fixed up (so that the decoder behind the checksum is explored too). When
// the fixed-up input decodes, it must survive a write/read round trip, and
// flipping any of its bytes must be caught.
func FuzzReadCheckpoint(f *testing.F) {
	f.Add(smallCheckpoint(f), uint32(0), byte(1))
	f.Add(checkpointBytes(f, NewStore(nil), 0), uint32(3), byte(0x80))
	f.Add(checkpointBytes(f, randomStore(f, rand.New(rand.NewPCG(1, 2)), 5), 5), uint32(100), byte(0xff))
	f.Add(typedCheckpoint(f), uint32(40), byte(0x10))
	f.Add(sparseCheckpoint(f), uint32(60), byte(0x04))
	f.Add(multiCheckpoint(f), uint32(90), byte(0x02))
	f.Add([]byte{}, uint32(0), byte(0))
	f.Add([]byte(checkpointMagic), uint32(0), byte(0))

	f.Fuzz(func(t *testing.T, data []byte, pos uint32, mask byte) {
		if _, _, err := ReadCheckpoint(data); err != nil && !errors.Is(err, errkind.ErrCorrupt) {
			t.Fatalf("raw input: error %v does not match errkind.ErrCorrupt", err)
		}
		if len(data) < 4 {
			return
		}
		fixed := withCRC(data[:len(data)-4])
		if declaredFloats(fixed) > 1<<24 {
			// The store allocates every column's width for every point,
			// with or without a vector, so a few kilobytes with a valid
			// checksum can ask for gigabytes. A real checkpoint needs that
			// memory too; the fuzzer must not spend its time there.
			return
		}
		s, applied, err := ReadCheckpoint(fixed)
		if err != nil {
			if !errors.Is(err, errkind.ErrCorrupt) {
				t.Fatalf("fixed-up input: error %v does not match errkind.ErrCorrupt", err)
			}
			return
		}

		// A decodable checkpoint round-trips.
		var buf bytes.Buffer
		if err := s.WriteCheckpoint(&buf, applied); err != nil {
			t.Fatalf("write back: %v", err)
		}
		again, applied2, err := ReadCheckpoint(buf.Bytes())
		if err != nil {
			t.Fatalf("re-read of a written checkpoint: %v", err)
		}
		if applied2 != applied || again.Len() != s.Len() {
			t.Fatalf("round trip: applied %d/%d, len %d/%d", applied2, applied, again.Len(), s.Len())
		}
		var buf2 bytes.Buffer
		if err := again.WriteCheckpoint(&buf2, applied); err != nil {
			t.Fatalf("second write: %v", err)
		}
		if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
			t.Fatal("write/read/write is not stable")
		}

		// Any flipped byte of a valid checkpoint is detected.
		if mask == 0 {
			mask = 1
		}
		bad := bytes.Clone(fixed)
		bad[int(pos)%len(bad)] ^= mask
		if _, _, err := ReadCheckpoint(bad); !errors.Is(err, errkind.ErrCorrupt) {
			t.Fatalf("byte %d ^ %#x of a valid checkpoint: err = %v, want errkind.ErrCorrupt", int(pos)%len(bad), mask, err)
		}
	})
}

// declaredFloats bounds the floats ReadCheckpoint would allocate for data:
// the summed dimensions of its columns times the most points the input could
// hold. It reads only the header and returns 0 when that is unreadable.
func declaredFloats(data []byte) uint64 {
	r := &reader{b: data}
	magic := string(r.bytes(len(checkpointMagic)))
	typed := magic == checkpointMagic || magic == checkpointMagicV7 || magic == checkpointMagicV6 || magic == checkpointMagicV5
	flagged := magic == checkpointMagic || magic == checkpointMagicV7 || magic == checkpointMagicV6
	r.u64()
	ncol := r.u32()
	if ncol > 1<<16 {
		return 0
	}
	var width uint64
	for range ncol {
		r.bytes(int(r.u32()))
		width += uint64(r.u32())
		r.bytes(int(r.u32()))
		if typed {
			r.bytes(int(r.u32()))
		}
		if flagged {
			r.byte()
		}
	}
	if r.err != nil {
		return 0
	}
	return width * uint64(len(data)/21+1)
}

// typedCheckpoint is a small checkpoint with float16, uint8 and turbo4
// columns, a graph and quantized codes: a seed that reaches the version 5
// sections.
func typedCheckpoint(t testing.TB) []byte {
	s := NewStore(map[string]VectorSpec{
		"h": {Dim: 4, Distance: vector.Cosine, Datatype: Float16},
		"b": {Dim: 3, Distance: vector.Euclid, Datatype: Uint8},
		"t": {Dim: 5, Distance: vector.Dot, Datatype: Turbo4},
	})
	cfg, err := quant.ParseConfig([]byte(`{"scalar":{"type":"int8"}}`))
	if err != nil {
		t.Fatal(err)
	}
	s.SetIndexParams("b", IndexParams{M: 4, EfConstruct: 8, IndexingThreshold: 2, Seed: 1, Quantization: cfg})
	for i := range 6 {
		x := float32(i)
		s.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"h": vector.Cosine.Preprocess([]float32{1, x, 0, 2}), "b": {x, 2 * x, 200}, "t": {x, -1, 2, 0, x * x}}, nil)
	}
	s.PrepareRead()
	buildAll(t, s)
	return checkpointBytes(t, s, 2)
}

// sparseCheckpoint is a small checkpoint with two sparse columns, an empty
// sparse vector among them: a seed that reaches the version 7 sections.
func sparseCheckpoint(t testing.TB) []byte {
	s := NewStore(map[string]VectorSpec{"d": {Dim: 2, Distance: vector.Dot}})
	s.AddSparseColumn("a", SparseSpec{})
	s.AddSparseColumn("b", SparseSpec{})
	for i := range 5 {
		x := float32(i)
		s.UpsertPoint(point.NumID(uint64(i)), 1, point.Vectors{"d": {x, 1}}, point.SparseVectors{
			"a": {Indices: []uint32{uint32(i), 7}, Values: []float32{x, -1}},
			"b": {Indices: []uint32{}, Values: []float32{}},
		}, nil)
	}
	return checkpointBytes(t, s, 4)
}

// multiCheckpoint is a small checkpoint with multivector columns, one
// with a graph and quantized codes: a seed that reaches the version 8
// parts.
func multiCheckpoint(t testing.TB) []byte {
	s := NewStore(map[string]VectorSpec{
		"m": {Dim: 2, Distance: vector.Dot, Multi: true},
		"u": {Dim: 3, Distance: vector.Euclid, Datatype: Uint8, Multi: true},
	})
	cfg, err := quant.ParseConfig([]byte(`{"scalar":{"type":"int8"}}`))
	if err != nil {
		t.Fatal(err)
	}
	s.SetIndexParams("u", IndexParams{M: 4, EfConstruct: 8, IndexingThreshold: 2, Seed: 1, Quantization: cfg})
	for i := range 5 {
		x := float32(i)
		s.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"m": []float32{x, 1, 2, x}[:2+2*(i%2)], "u": {x, 2 * x, 200, 1, 2, 3}}, nil)
	}
	s.PrepareRead()
	buildAll(t, s)
	return checkpointBytes(t, s, 3)
}
