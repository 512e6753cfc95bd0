package segment

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/index/payload"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
)

func checkpointBytes(t testing.TB, s *Store, applied uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.WriteCheckpoint(&buf, applied); err != nil {
		t.Fatalf("WriteCheckpoint: %v", err)
	}
	return buf.Bytes()
}

// withCRC replaces the trailing checksum of body||crc with the right one,
// so that tests (and the fuzzer) reach the decoder behind the checksum.
func withCRC(body []byte) []byte {
	out := append([]byte(nil), body...)
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, crc32.MakeTable(crc32.Castagnoli)))
}

// awkwardPayloads are payloads whose JSON must survive a checkpoint byte for
// byte: numbers keep their text, nesting is kept.
var awkwardPayloads = []string{
	`{"big":18446744073709551615,"neg":-9223372036854775808,"one":1.0,"exp":1e400,"tiny":5e-324,"frac":0.1000000000000000055511151231257827}`,
	`{"nested":{"a":{"b":[1,{"c":null},[true,false]],"d":""}},"empty_obj":{},"empty_arr":[]}`,
	`{"text":"<b>&amp;</b> \u00e9\u4e2d\ud83d\ude00 \"quoted\" \\ back\nslash","":"empty key"}`,
	`{}`,
	`null`,
}

// randomStore builds a store with UUID and integer ids, named and unnamed
// vectors that some points lack, deleted points and awkward payloads.
func randomStore(t testing.TB, r *rand.Rand, n int) *Store {
	t.Helper()
	s := NewStore(map[string]VectorSpec{
		"":     {Dim: 3, Distance: vector.Cosine},
		"text": {Dim: 5, Distance: vector.Dot},
		"img":  {Dim: 1, Distance: vector.Euclid},
		"x y":  {Dim: 2, Distance: vector.Manhattan},
	})
	for range n {
		var id point.ID
		switch r.IntN(3) {
		case 0:
			var u [16]byte
			for j := range u {
				u[j] = byte(r.Uint32())
			}
			id = point.UUIDID(u)
		case 1:
			id = point.NumID(r.Uint64())
		default:
			id = point.NumID(uint64(r.IntN(n)))
		}
		vecs := point.Vectors{}
		for name, c := range s.columns {
			if r.IntN(3) == 0 {
				continue
			}
			v := make([]float32, c.spec.Dim)
			for j := range v {
				switch r.IntN(8) {
				case 0:
					v[j] = float32(math.Copysign(0, -1))
				case 1:
					v[j] = math.SmallestNonzeroFloat32
				case 2:
					v[j] = math.MaxFloat32
				default:
					v[j] = float32(r.NormFloat64())
				}
			}
			vecs[name] = v
		}
		s.Upsert(id, r.Uint64(), vecs, pl(t, awkwardPayloads[r.IntN(len(awkwardPayloads))]))
		if r.IntN(8) == 0 {
			s.Delete(id)
		}
	}
	s.PrepareRead()
	return s
}

// sameStore compares two stores through their public read methods.
func sameStore(t *testing.T, want, got *Store) {
	t.Helper()
	if want.Len() != got.Len() {
		t.Fatalf("Len = %d, want %d", got.Len(), want.Len())
	}
	for name, c := range want.columns {
		gc, ok := got.columns[name]
		if !ok || gc.spec != c.spec {
			t.Fatalf("column %q: got %+v, want %+v", name, gc, c.spec)
		}
	}
	if len(got.columns) != len(want.columns) {
		t.Fatalf("%d columns, want %d", len(got.columns), len(want.columns))
	}
	wantRecs, _ := scroll(want, nil, nil, want.Len()+1, all)
	gotRecs, _ := scroll(got, nil, nil, got.Len()+1, all)
	if len(wantRecs) != len(gotRecs) {
		t.Fatalf("scrolled %d records, want %d", len(gotRecs), len(wantRecs))
	}
	for i := range wantRecs {
		w, g := wantRecs[i], gotRecs[i]
		if w.ID != g.ID || w.Version != g.Version {
			t.Fatalf("record %d: id/version %v/%d, want %v/%d", i, g.ID, g.Version, w.ID, w.Version)
		}
		wj, _ := json.Marshal(w.Payload)
		gj, _ := json.Marshal(g.Payload)
		if !bytes.Equal(wj, gj) {
			t.Fatalf("point %v payload %s, want %s", w.ID, gj, wj)
		}
		if !reflect.DeepEqual(w.Payload, g.Payload) {
			t.Fatalf("point %v payload %#v, want %#v", w.ID, g.Payload, w.Payload)
		}
		if len(w.Vectors) != len(g.Vectors) {
			t.Fatalf("point %v vectors %v, want %v", w.ID, g.Vectors, w.Vectors)
		}
		for name, wv := range w.Vectors {
			gv := g.Vectors[name]
			if len(gv) != len(wv) {
				t.Fatalf("point %v vector %q = %v, want %v", w.ID, name, gv, wv)
			}
			for j := range wv { // bitwise, so -0 and 0 differ
				if math.Float32bits(wv[j]) != math.Float32bits(gv[j]) {
					t.Fatalf("point %v vector %q = %v, want %v", w.ID, name, gv, wv)
				}
			}
		}
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	seed := uint64(0x5eed0001)
	r := newRand(t, seed)
	cases := []struct {
		name    string
		store   func() *Store
		applied uint64
	}{
		{"empty without columns", func() *Store { return NewStore(nil) }, 0},
		{"empty with columns", func() *Store { return NewStore(twoColumns()) }, 7},
		{"one point no vectors", func() *Store {
			s := NewStore(twoColumns())
			s.Upsert(num(0), 0, nil, nil)
			return s
		}, 1},
		{"all deleted", func() *Store {
			s := NewStore(twoColumns())
			s.Upsert(num(1), 0, point.Vectors{"": {1, 2}}, nil)
			s.Delete(num(1))
			return s
		}, math.MaxUint64},
		{"random small", func() *Store { return randomStore(t, r, 30) }, 30},
		{"random large", func() *Store { return randomStore(t, r, 3000) }, 1 << 40},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.store()
			s.PrepareRead()
			data := checkpointBytes(t, s, c.applied)
			got, applied, err := ReadCheckpoint(data)
			if err != nil {
				t.Fatalf("ReadCheckpoint: %v", err)
			}
			if applied != c.applied {
				t.Fatalf("applied = %d, want %d", applied, c.applied)
			}
			sameStore(t, s, got)
			// Writing the loaded store again gives the same bytes: nothing
			// was lost or reordered on the way.
			if again := checkpointBytes(t, got, c.applied); !bytes.Equal(again, data) {
				t.Fatalf("re-written checkpoint differs (%d vs %d bytes)", len(again), len(data))
			}
			// The loaded store is usable: searchable and writable.
			got.Upsert(num(12345), 1, nil, nil)
			if !got.Has(num(12345)) {
				t.Fatal("loaded store does not take writes")
			}
		})
	}
}

func TestCheckpointKeepsNumberText(t *testing.T) {
	s := NewStore(nil)
	for i, js := range awkwardPayloads {
		s.Upsert(num(uint64(i)), 1, nil, pl(t, js))
	}
	got, _, err := ReadCheckpoint(checkpointBytes(t, s, 1))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := got.Payload(num(0))
	cases := []struct{ key, text string }{
		{"big", "18446744073709551615"},
		{"neg", "-9223372036854775808"},
		{"one", "1.0"},
		{"exp", "1e400"},
		{"tiny", "5e-324"},
		{"frac", "0.1000000000000000055511151231257827"},
	}
	for _, c := range cases {
		n, ok := p[c.key].(json.Number)
		if !ok || string(n) != c.text {
			t.Errorf("%s = %#v, want json.Number(%q)", c.key, p[c.key], c.text)
		}
	}
	p, _ = got.Payload(num(2))
	if want := "<b>&amp;</b> é中😀 \"quoted\" \\ back\nslash"; p["text"] != want {
		t.Errorf("text = %q, want %q", p["text"], want)
	}
	if p, _ := got.Payload(num(3)); p == nil || len(p) != 0 {
		t.Errorf("empty payload came back as %#v", p)
	}
	if p, ok := got.Payload(num(4)); !ok || p != nil {
		t.Errorf("null payload came back as %#v", p)
	}
}

// smallCheckpoint is a valid checkpoint touching every part of the format.
func smallCheckpoint(t testing.TB) []byte {
	s := NewStore(twoColumns())
	s.Upsert(num(3), 9, point.Vectors{"": {1, 2}, "img": {3, 4, 5}}, point.Payload{"a": json.Number("1.0")})
	s.Upsert(uid(t, "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"), 10, point.Vectors{"img": {6, 7, 8}}, nil)
	return checkpointBytes(t, s, 11)
}

func TestReadCheckpointFlippedBytes(t *testing.T) {
	data := smallCheckpoint(t)
	for pos := range data {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(data)
			bad[pos] ^= mask
			if _, _, err := ReadCheckpoint(bad); !errors.Is(err, errkind.ErrCorrupt) {
				t.Fatalf("byte %d ^ %#x: err = %v, want errkind.ErrCorrupt", pos, mask, err)
			}
		}
	}
	for n := range len(data) {
		if _, _, err := ReadCheckpoint(data[:n]); !errors.Is(err, errkind.ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: err = %v, want errkind.ErrCorrupt", n, err)
		}
	}
	if _, _, err := ReadCheckpoint(append(bytes.Clone(data), 0)); !errors.Is(err, errkind.ErrCorrupt) {
		t.Fatalf("extra byte: err = %v, want errkind.ErrCorrupt", err)
	}
}

// TestReadCheckpointBadContent feeds checkpoints with a correct checksum
// but inconsistent content, as a bug in the writer would produce.
func TestReadCheckpointBadContent(t *testing.T) {
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	le64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	// header is a version 7 header without sparse columns; sparseHeader
	// one with the named sparse columns and one dense column.
	header := func(ncol uint32, cols ...[]byte) []byte {
		return cat(append(append([][]byte{[]byte(checkpointMagic), le64(5), le32(ncol)}, cols...), le32(0))...)
	}
	v6header := func(ncol uint32, cols ...[]byte) []byte {
		return cat(append([][]byte{[]byte(checkpointMagicV6), le64(5), le32(ncol)}, cols...)...)
	}
	col := func(name string, dim uint32, dist string) []byte {
		return cat(le32(uint32(len(name))), []byte(name), le32(dim), le32(uint32(len(dist))), []byte(dist), le32(0), []byte{0})
	}
	flaggedCol := func(name string, dim uint32, dist string, flags byte) []byte {
		return cat(le32(uint32(len(name))), []byte(name), le32(dim), le32(uint32(len(dist))), []byte(dist), le32(0), []byte{flags})
	}
	v5col := func(name string, dim uint32, dist string) []byte {
		return cat(le32(uint32(len(name))), []byte(name), le32(dim), le32(uint32(len(dist))), []byte(dist), le32(0))
	}
	typedCol := func(name string, dim uint32, dist, datatype string) []byte {
		return cat(le32(uint32(len(name))), []byte(name), le32(dim), le32(uint32(len(dist))), []byte(dist),
			le32(uint32(len(datatype))), []byte(datatype), []byte{0})
	}
	v4col := func(name string, dim uint32, dist string) []byte {
		return cat(le32(uint32(len(name))), []byte(name), le32(dim), le32(uint32(len(dist))), []byte(dist))
	}
	numPoint := func(id uint64, payload string, vec ...[]byte) []byte {
		return cat(append([][]byte{{0}, le64(id), le64(1), le32(uint32(len(payload))), []byte(payload)}, vec...)...)
	}
	oneVec := cat([]byte{1}, le32(math.Float32bits(1)))
	noIndexes := cat(le32(0), le32(0), le32(0)) // no payload indexes, no graphs, no codes
	ok := cat(header(1, col("", 1, "Dot")), le64(1), numPoint(7, `{"a":1}`, oneVec), noIndexes)
	v4 := cat([]byte(checkpointMagicV4), le64(5), le32(1), v4col("", 1, "Dot"), le64(1), numPoint(7, `{"a":1}`, oneVec), le32(0), le32(0))
	f16 := cat(header(1, typedCol("", 2, "Dot", "float16")), le64(1), numPoint(7, ``, []byte{1, 0x00, 0x3c, 0x00, 0xc0}), noIndexes)
	u8 := cat(header(1, typedCol("", 3, "Euclid", "uint8")), le64(1), numPoint(7, ``, []byte{1, 0, 7, 255}), noIndexes)

	index := func(key, schema string) []byte {
		return cat(le32(1), le32(uint32(len(key))), []byte(key), le32(uint32(len(schema))), []byte(schema), le64(0), le32(0), le32(0))
	}
	okPoints := cat(header(1, col("", 1, "Dot")), le64(1), numPoint(7, `{"a":1}`, oneVec))
	sparseHeader := func(names ...string) []byte {
		parts := [][]byte{[]byte(checkpointMagic), le64(5), le32(1), col("", 1, "Dot"), le32(uint32(len(names)))}
		for _, n := range names {
			parts = append(parts, le32(uint32(len(n))), []byte(n))
		}
		return cat(parts...)
	}
	sparseVec := func(idx []uint32, vals ...float32) []byte {
		parts := [][]byte{{1}, le32(uint32(len(idx)))}
		for _, d := range idx {
			parts = append(parts, le32(d))
		}
		for _, x := range vals {
			parts = append(parts, le32(math.Float32bits(x)))
		}
		return cat(parts...)
	}
	withSparse := func(v []byte) []byte {
		return cat(sparseHeader("s"), le64(1), numPoint(7, ``, oneVec, v), noIndexes)
	}
	// multi is a version 8 checkpoint with one multivector column of
	// dimension 2 and one point holding vec (u8 has, u32 count, elements).
	multi := func(datatype string, vec ...[]byte) []byte {
		c := cat(le32(1), []byte("m"), le32(2), le32(3), []byte("Dot"), le32(uint32(len(datatype))), []byte(datatype), []byte{colMulti})
		return cat(header(1, c), le64(1), numPoint(7, ``, vec...), noIndexes)
	}
	f32s := func(xs ...float32) []byte {
		var out []byte
		for _, x := range xs {
			out = append(out, le32(math.Float32bits(x))...)
		}
		return out
	}
	v7header := func(ncol uint32, cols ...[]byte) []byte {
		return cat(append(append([][]byte{[]byte(checkpointMagicV7), le64(5), le32(ncol)}, cols...), le32(0))...)
	}

	cases := []struct {
		name  string
		body  []byte
		ok    bool
		cause error // when set, the error wraps it as well as errkind.ErrCorrupt
	}{
		{"valid", ok, true, nil},
		{"version 7", cat(v7header(1, col("", 1, "Dot")), le64(1), numPoint(7, `{"a":1}`, oneVec), noIndexes), true, nil},
		{"multivector flag in version 7", cat(v7header(1, flaggedCol("", 1, "Dot", colMulti)), le64(0), noIndexes), false, nil},
		{"multivector of two sub-vectors", multi("", []byte{1}, le32(2), f32s(1, 2, 3, 4)), true, nil},
		{"multivector of one sub-vector", multi("", []byte{1}, le32(1), f32s(1, 2)), true, nil},
		{"uint8 multivector", multi("uint8", []byte{1}, le32(3), []byte{1, 2, 3, 4, 5, 6}), true, nil},
		{"float16 multivector", multi("float16", []byte{1}, le32(1), []byte{0x00, 0x3c, 0x00, 0xc0}), true, nil},
		{"point without its multivector", multi("", []byte{0}), true, nil},
		{"multivector of no sub-vectors", multi("", []byte{1}, le32(0)), false, nil},
		{"multivector count past the end", multi("", []byte{1}, le32(1<<30), f32s(1, 2)), false, nil},
		{"multivector cut short", multi("", []byte{1}, le32(2), f32s(1, 2, 3)), false, nil},
		{"version 6", cat(v6header(1, col("", 1, "Dot")), le64(1), numPoint(7, `{"a":1}`, oneVec), noIndexes), true, nil},
		{"sparse vector", withSparse(sparseVec([]uint32{1, 5}, 0.5, -2)), true, nil},
		{"empty sparse vector", withSparse(sparseVec(nil)), true, nil},
		{"no sparse vector", withSparse([]byte{0}), true, nil},
		{"sparse indices out of order", withSparse(sparseVec([]uint32{5, 1}, 0.5, -2)), false, nil},
		{"sparse index twice", withSparse(sparseVec([]uint32{5, 5}, 0.5, -2)), false, nil},
		{"sparse value not finite", withSparse(sparseVec([]uint32{1}, float32(math.Inf(1)))), false, nil},
		{"sparse length past the end", cat(sparseHeader("s"), le64(1), numPoint(7, ``, oneVec, []byte{1}, le32(1<<30))), false, nil},
		{"sparse columns out of order", cat(sparseHeader("b", "a"), le64(0), noIndexes), false, nil},
		{"too many sparse columns", cat([]byte(checkpointMagic), le64(5), le32(1), col("", 1, "Dot"), le32(1<<16+1), le64(0), noIndexes), false, nil},
		{"version 4", v4, true, nil},
		{"version 5", cat([]byte(checkpointMagicV5), le64(5), le32(1), v5col("", 1, "Dot"), le64(1), numPoint(7, `{"a":1}`, oneVec), noIndexes), true, nil},
		{"on-disk column without its file", cat(header(1, flaggedCol("", 1, "Dot", colOnDisk)), le64(1), numPoint(7, ``, []byte{1}), noIndexes), false, nil},
		{"unknown column flag", cat(header(1, flaggedCol("", 1, "Dot", 4)), le64(0), noIndexes), false, nil},
		{"version 4 with a quantized section", cat(v4, le32(0)), false, nil},
		{"float16 column", f16, true, nil},
		{"uint8 column", u8, true, nil},
		{"unknown datatype", cat(header(1, typedCol("", 1, "Dot", "float64")), le64(0), noIndexes), false, nil},
		{"uint8 vector cut short", cat(header(1, typedCol("", 3, "Dot", "uint8")), le64(1), numPoint(7, ``, []byte{1, 0, 7})), false, io.ErrUnexpectedEOF},
		{"quantized count past the end", cat(header(1, col("", 1, "Dot")), le64(1), numPoint(7, ``, oneVec), le32(0), le32(0), le32(9)), false, nil},
		{"bad magic", cat([]byte("SHOALCP9"), ok[8:]), false, nil},
		{"short header", []byte(checkpointMagic), false, nil},
		{"too many columns", header(1<<16 + 1), false, nil},
		{"column count past the end", header(3, col("", 1, "Dot")), false, nil},
		{"unknown distance", cat(header(1, col("", 1, "Cos")), le64(0)), false, nil},
		{"dimension 0", cat(header(1, col("", 0, "Dot")), le64(0)), false, nil},
		{"dimension too large", cat(header(1, col("", 1<<16+1, "Dot")), le64(0)), false, nil},
		{"name length past the end", cat(header(1), le32(1<<31)), false, nil},
		{"point count past the end", cat(header(0), le64(1<<62)), false, nil},
		{"fewer points than counted", cat(header(1, col("", 1, "Dot")), le64(2), numPoint(7, ``, oneVec)), false, nil},
		{"trailing bytes", cat(ok, []byte{0}), false, nil},
		{"bad id kind", cat(header(0), le64(1), []byte{3}, le64(1), le64(1), le32(0)), false, nil},
		{"short uuid", cat(header(0), le64(1), []byte{1, 1, 2, 3}), false, nil},
		{"payload length past the end", cat(header(0), le64(1), numPoint(7, ``)[:17], le32(100), []byte("{}")), false, io.ErrUnexpectedEOF},
		{"payload not json", cat(header(0), le64(1), numPoint(7, `{"a":`)), false, io.ErrUnexpectedEOF},
		{"payload an array", cat(header(0), le64(1), numPoint(7, `[1]`)), false, nil},
		{"payload with trailing data", cat(header(0), le64(1), numPoint(7, `{} {}`)), false, nil},
		{"payload null is accepted", cat(header(0), le64(1), numPoint(7, `null`), noIndexes), true, nil},
		{"vector cut short", cat(header(1, col("", 2, "Dot")), le64(1), numPoint(7, ``, cat([]byte{1}, le32(0)))), false, io.ErrUnexpectedEOF},
		{"duplicate point", cat(header(0), le64(2), numPoint(7, ``), numPoint(7, ``)), false, nil},
		{"index with a bad key", cat(okPoints, index("a..b", `"keyword"`)), false, point.ErrInvalidPath},
		{"index with a bad schema", cat(okPoints, index("a", `"nope"`)), false, payload.ErrInvalidSchema},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _, err := ReadCheckpoint(withCRC(c.body))
			if c.ok {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				if s.Len() != 1 {
					t.Fatalf("Len = %d, want 1", s.Len())
				}
				return
			}
			if !errors.Is(err, errkind.ErrCorrupt) {
				t.Fatalf("err = %v, want errkind.ErrCorrupt", err)
			}
			if c.cause != nil && !errors.Is(err, c.cause) {
				t.Fatalf("err = %v does not wrap %v", err, c.cause)
			}
		})
	}
}

func TestWriteCheckpointWriterErrors(t *testing.T) {
	data := smallCheckpoint(t)
	s, _, err := ReadCheckpoint(data)
	if err != nil {
		t.Fatal(err)
	}
	// A writer that fails at every possible point surfaces the error.
	for limit := 0; limit < len(data); limit += max(1, len(data)/16) {
		w := &failingWriter{limit: limit}
		if err := s.WriteCheckpoint(w, 11); err == nil {
			t.Fatalf("writer failing after %d bytes: no error", limit)
		}
	}
}

type failingWriter struct{ limit, n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n+len(p) > w.limit {
		k := w.limit - w.n
		w.n = w.limit
		return k, fmt.Errorf("disk full after %d bytes", w.limit)
	}
	w.n += len(p)
	return len(p), nil
}

// TestCheckpointKeepsOffsets: free slots are written too, so every live
// point keeps its offset across a reload (persisted indexes rely on it).
func TestCheckpointKeepsOffsets(t *testing.T) {
	s := NewStore(map[string]VectorSpec{"": {Dim: 1, Distance: "Dot"}})
	for i := range 10 {
		s.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"": {float32(i)}}, nil)
	}
	for _, i := range []uint64{0, 3, 4, 9} {
		s.Delete(point.NumID(i))
	}
	s.PrepareRead()
	var buf bytes.Buffer
	if err := s.WriteCheckpoint(&buf, 7); err != nil {
		t.Fatal(err)
	}
	got, applied, err := ReadCheckpoint(buf.Bytes())
	if err != nil || applied != 7 {
		t.Fatalf("read: %v applied %d", err, applied)
	}
	for id, off := range s.offsets {
		if got.offsets[id] != off {
			t.Fatalf("point %s moved from offset %d to %d", id, off, got.offsets[id])
		}
	}
	if got.Len() != 6 || len(got.free) != 4 {
		t.Fatalf("len %d free %d", got.Len(), len(got.free))
	}
	got.Upsert(point.NumID(100), 8, point.Vectors{"": {1}}, nil)
	if off := got.offsets[point.NumID(100)]; off >= 10 {
		t.Fatalf("a new point should reuse a free slot, got offset %d", off)
	}
}
