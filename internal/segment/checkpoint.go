package segment

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"

	"github.com/google/uuid"
	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vfs"
)

// Checkpoint file format (all integers little endian):
//
//	magic "SHOALCP8" | u64 applied version | u32 column count
//	per column (sorted by name): u32 name len, name, u32 dim, u32 distance len, distance,
//	                             u32 datatype len, datatype, u8 flags (1: on disk,
//	                             the elements are in a file of their own; 2: a
//	                             multivector column)
//	u32 sparse column count
//	per sparse column (sorted by name): u32 name len, name
//	u64 slot count
//	per slot: u8 kind (0 num id, 1 uuid id, 2 free slot: nothing follows),
//	          u64 or 16 bytes id, u64 version,
//	           u32 payload JSON len, payload JSON,
//	           per column: u8 has, then when has: for a multivector column
//	           u32 k (its sub-vectors, at least 1), then k*dim (dim for
//	           other columns) elements of its datatype unless the column
//	           is on disk (float32 and float16 as their bits, uint8 as
//	           bytes; turbo4 as k rows, 1 for other columns, of
//	           vector.Turbo4: codes and two float32s)
//	           per sparse column: u8 has, then when has u32 n, n indices
//	           (u32, strictly ascending), n values (f32 bits, finite)
//	u32 index count
//	per index: u32 key len, key, u32 schema len, schema JSON, u64 data len, data
//	u32 graph count
//	per graph: u32 name len, vector name, u32 pending count, pending offsets
//	           (u32 each), u64 data len, HNSW graph data
//	u32 quantized count
//	per quantized column: u32 name len, vector name, u32 config len, config JSON,
//	           u32 stale count, stale offsets (u32 each), u64 data len, codes
//	           (quant.Encoded.Encode); for a multivector column then
//	           u32 n, n u32 counts: the sub-vectors each offset had in the
//	           codes (which hold every sub-vector, packed in offset order)
//	u32 CRC32C of every byte before it
//
// The inverted indexes of sparse columns are files of their own
// (sparse_index.go). Versions 7 (no multivector columns), 6 (no sparse
// columns), 5 (no column flags) and 4 (no datatype: float32, no quantized
// section) are still read.
const checkpointMagic = "SHOALCP8"

// Previous formats, read for compatibility.
const (
	checkpointMagicV7 = "SHOALCP7"
	checkpointMagicV6 = "SHOALCP6"
	checkpointMagicV5 = "SHOALCP5"
	checkpointMagicV4 = "SHOALCP4"
)

// Column flags: colOnDisk flags a column whose elements live in a file of
// their own, colMulti a multivector column (version 8).
const (
	colOnDisk = 1
	colMulti  = 2
)

// Slot kinds in a checkpoint.
const (
	idNum  = 0
	idUUID = 1
	idFree = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteCheckpoint writes every live point and the applied version to w.
func (s *Store) WriteCheckpoint(w io.Writer, applied uint64) error {
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 1<<20)
	var b8 [8]byte
	u32 := func(v uint32) { binary.LittleEndian.PutUint32(b8[:4], v); bw.Write(b8[:4]) }
	u64 := func(v uint64) { binary.LittleEndian.PutUint64(b8[:], v); bw.Write(b8[:]) }
	str := func(v string) { u32(uint32(len(v))); bw.WriteString(v) }

	bw.WriteString(checkpointMagic)
	u64(applied)
	names := make([]string, 0, len(s.columns))
	for n := range s.columns {
		names = append(names, n)
	}
	slices.Sort(names)
	u32(uint32(len(names)))
	for _, n := range names {
		c := s.columns[n]
		str(n)
		u32(uint32(c.spec.Dim))
		str(string(c.spec.Distance))
		str(string(c.spec.Datatype))
		var flags byte
		if c.ext != nil {
			flags |= colOnDisk
		}
		if c.rows != nil {
			flags |= colMulti
		}
		bw.WriteByte(flags)
	}
	sparseNames := s.sparseNames()
	u32(uint32(len(sparseNames)))
	for _, n := range sparseNames {
		str(n)
	}
	// Every slot is written, free ones as a marker, so offsets survive a
	// reload and persisted payload indexes (keyed by offset) stay valid.
	u64(uint64(len(s.ids)))
	for off, l := range s.live {
		if !l {
			bw.WriteByte(idFree)
			continue
		}
		id := s.ids[off]
		if id.IsUUID() {
			bw.WriteByte(idUUID)
			u := id.UUID()
			bw.Write(u[:])
		} else {
			bw.WriteByte(idNum)
			u64(id.Num())
		}
		u64(s.versions[off])
		var pj []byte
		if s.payloads[off] != nil {
			var err error
			if pj, err = json.Marshal(s.payloads[off]); err != nil {
				return fmt.Errorf("encode payload of point %s: %w", id, err)
			}
		}
		u32(uint32(len(pj)))
		bw.Write(pj)
		for _, n := range names {
			c := s.columns[n]
			if !c.has[off] {
				bw.WriteByte(0)
				continue
			}
			bw.WriteByte(1)
			if c.rows != nil {
				u32(c.rows.count[off])
			}
			if c.ext != nil {
				continue // the elements are in the column's file
			}
			switch c.spec.Datatype {
			case Turbo4:
				e, n := c.span(uint32(off))
				bw.Write(c.tq[c.elemsBytes(e):c.elemsBytes(e+n)])
			case Float16:
				for _, h := range c.rowF16(uint32(off)) {
					binary.LittleEndian.PutUint16(b8[:2], h)
					bw.Write(b8[:2])
				}
			case Uint8:
				bw.Write(c.rowU8(uint32(off)))
			default:
				for _, x := range c.rowF32(uint32(off)) {
					u32(math.Float32bits(x))
				}
			}
		}
		for _, n := range sparseNames {
			c := s.sparse[n]
			if !c.has[off] {
				bw.WriteByte(0)
				continue
			}
			bw.WriteByte(1)
			v := c.vecs[off]
			u32(uint32(len(v.Indices)))
			for _, d := range v.Indices {
				u32(d)
			}
			for _, x := range v.Values {
				u32(math.Float32bits(x))
			}
		}
	}
	// Payload indexes: key, schema as given, and the index data, so that a
	// restart loads them instead of rebuilding.
	keys := s.indexKeys()
	u32(uint32(len(keys)))
	var data bytes.Buffer
	for _, k := range keys {
		fi := s.indexes[k]
		data.Reset()
		if err := fi.idx.Encode(&data); err != nil {
			return fmt.Errorf("encode index %q: %w", k, err)
		}
		str(k)
		str(string(fi.raw))
		u64(uint64(data.Len()))
		bw.Write(data.Bytes())
	}
	// HNSW graphs: the pending offsets first, then the graph, so that a
	// point linked between the two is in both (relinked on load) rather
	// than in neither.
	gnames := make([]string, 0, len(s.vindex))
	for n, vi := range s.vindex {
		if vi.graph.Load() != nil {
			gnames = append(gnames, n)
		}
	}
	slices.Sort(gnames)
	u32(uint32(len(gnames)))
	for _, n := range gnames {
		vi := s.vindex[n]
		vi.mu.Lock()
		pend := make([]uint32, 0, len(vi.pending))
		for off := range vi.pending {
			pend = append(pend, off)
		}
		vi.mu.Unlock()
		slices.Sort(pend)
		data.Reset()
		if err := vi.graph.Load().Encode(&data); err != nil {
			return fmt.Errorf("encode graph of vector %q: %w", n, err)
		}
		str(n)
		u32(uint32(len(pend)))
		for _, off := range pend {
			u32(off)
		}
		u64(uint64(data.Len()))
		bw.Write(data.Bytes())
	}
	if err := s.writeCodes(bw, &data, u32, u64, str); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	binary.LittleEndian.PutUint32(b8[:4], crc.Sum32())
	if _, err := w.Write(b8[:4]); err != nil {
		return fmt.Errorf("write checkpoint checksum: %w", err)
	}
	return nil
}

// ReadCheckpoint decodes a checkpoint produced by WriteCheckpoint. It never
// panics on garbage; any inconsistency yields an error matching errkind.ErrCorrupt.
// A checkpoint with on-disk columns needs ReadCheckpointWith.
func ReadCheckpoint(data []byte) (*Store, uint64, error) {
	return ReadCheckpointWith(data, nil, nil)
}

// ReadCheckpointWith is ReadCheckpoint for a segment with on-disk columns:
// vectorFile names the file of each such column on fsys, which is then
// mapped (MapColumn).
func ReadCheckpointWith(data []byte, fsys vfs.FS, vectorFile func(name string) (string, error)) (*Store, uint64, error) {
	if len(data) < len(checkpointMagic)+4 {
		return nil, 0, errkind.Corruptf("corrupt checkpoint: too short")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, 0, errkind.Corruptf("corrupt checkpoint: checksum mismatch")
	}
	r := &reader{b: body}
	v4, v5, v6, v7 := false, false, false, false
	switch string(r.bytes(len(checkpointMagic))) {
	case checkpointMagic:
	case checkpointMagicV7:
		v7 = true
	case checkpointMagicV6:
		v6 = true
	case checkpointMagicV5:
		v5 = true
	case checkpointMagicV4:
		v4 = true
	default:
		return nil, 0, errkind.Corruptf("corrupt checkpoint: bad magic")
	}
	applied := r.u64()
	ncol := r.u32()
	if r.err != nil || ncol > 1<<16 {
		return nil, 0, errkind.Corruptf("corrupt checkpoint: bad column count")
	}
	specs := map[string]VectorSpec{}
	external := map[string]bool{}
	names := make([]string, 0, ncol)
	for range ncol {
		name := string(r.bytes(int(r.u32())))
		dim := r.u32()
		dist, derr := vector.ParseDistance(string(r.bytes(int(r.u32()))))
		dt := Float32
		if !v4 {
			var terr error
			if dt, terr = ParseDatatype(string(r.bytes(int(r.u32())))); terr != nil {
				derr = terr
			}
		}
		var flags byte
		if !v4 && !v5 {
			flags = r.byte()
		}
		known := byte(colOnDisk | colMulti)
		if v7 || v6 {
			known = colOnDisk
		}
		if r.err != nil || derr != nil || dim == 0 || dim > 1<<16 || flags&^known != 0 {
			return nil, 0, errkind.Corruptf("corrupt checkpoint: bad column %q", name)
		}
		if flags&colOnDisk != 0 {
			if vectorFile == nil {
				return nil, 0, errkind.Corruptf("corrupt checkpoint: column %q is on disk but no file was given", name)
			}
			external[name] = true
		}
		specs[name] = VectorSpec{Dim: int(dim), Distance: dist, Datatype: dt, Multi: flags&colMulti != 0}
		names = append(names, name)
	}
	var sparseNames []string
	if !v4 && !v5 && !v6 {
		nsp := r.u32()
		if r.err != nil || nsp > 1<<16 {
			return nil, 0, errkind.Corruptf("corrupt checkpoint: bad sparse column count")
		}
		for range nsp {
			name := string(r.bytes(int(r.u32())))
			if r.err != nil || len(sparseNames) > 0 && name <= sparseNames[len(sparseNames)-1] {
				return nil, 0, errkind.Corruptf("corrupt checkpoint: bad sparse column %q", name)
			}
			sparseNames = append(sparseNames, name)
		}
	}
	s := NewStore(specs)
	for _, name := range sparseNames {
		s.AddSparseColumn(name, SparseSpec{})
	}
	n := r.u64()
	if r.err != nil || n > uint64(len(body)) {
		return nil, 0, errkind.Corruptf("corrupt checkpoint: bad point count")
	}
	for i := uint64(0); i < n; i++ {
		var id point.ID
		switch r.byte() {
		case idFree:
			s.allocFree()
			continue
		case idNum:
			id = point.NumID(r.u64())
		case idUUID:
			var u uuid.UUID
			copy(u[:], r.bytes(16))
			id = point.UUIDID(u)
		default:
			return nil, 0, errkind.Corruptf("corrupt checkpoint: bad id kind at point %d", i)
		}
		version := r.u64()
		pj := r.bytes(int(r.u32()))
		if r.err != nil {
			return nil, 0, errkind.Corruptf("corrupt checkpoint: point %d: %w", i, r.err)
		}
		var payload point.Payload
		if len(pj) > 0 {
			var err error
			if payload, err = point.DecodePayload(pj); err != nil {
				return nil, 0, errkind.Corruptf("corrupt checkpoint: payload of point %s: %w", id, err)
			}
		}
		vecs := point.Vectors{}
		var onDisk []string // columns with a vector kept in their file
		var onDiskSubs []uint32
		var rows map[string][]byte // turbo4 rows, kept as they are
		for _, name := range names {
			if r.byte() == 0 {
				continue
			}
			sp, k := specs[name], uint32(1)
			if sp.Multi {
				// Each sub-vector takes at least one byte where it is
				// stored here; on disk, the mapped file's size is checked.
				k = r.u32()
				per := uint64(sp.Dim) // bytes a sub-vector takes at least
				if sp.Datatype == Turbo4 {
					per = uint64(s.columns[name].t4.RowBytes())
				}
				if r.err == nil && (k == 0 || !external[name] && uint64(k)*per > uint64(len(r.b))) {
					return nil, 0, errkind.Corruptf("corrupt checkpoint: point %d: multivector %q: bad count %d", i, name, k)
				}
			}
			if external[name] {
				onDisk = append(onDisk, name)
				onDiskSubs = append(onDiskSubs, k)
				continue
			}
			if sp.Datatype == Turbo4 {
				if rows == nil {
					rows = map[string][]byte{}
				}
				rows[name] = r.bytes(int(k) * s.columns[name].t4.RowBytes())
				continue
			}
			vecs[name] = r.vector(sp, int(k))
		}
		var sparseVecs point.SparseVectors
		for _, name := range sparseNames {
			if r.byte() == 0 {
				continue
			}
			v, err := r.sparseVector()
			if err != nil {
				return nil, 0, errkind.Corruptf("corrupt checkpoint: point %d: sparse vector %q: %w", i, name, err)
			}
			if sparseVecs == nil {
				sparseVecs = point.SparseVectors{}
			}
			sparseVecs[name] = v
		}
		if r.err != nil {
			return nil, 0, errkind.Corruptf("corrupt checkpoint: point %d: %w", i, r.err)
		}
		if s.Has(id) {
			return nil, 0, errkind.Corruptf("corrupt checkpoint: duplicate point %s", id)
		}
		off := s.appendSlot(id)
		s.versions[off] = version
		s.payloads[off] = payload
		s.setVectors(off, vecs, true)
		s.setSparse(off, sparseVecs, true)
		for j, name := range onDisk {
			c := s.columns[name]
			c.has[off] = true
			if c.rows != nil {
				c.rows.count[off] = onDiskSubs[j]
			}
		}
		for name, row := range rows {
			if err := s.setRows(name, off, row); err != nil {
				return nil, 0, err
			}
		}
	}
	for name := range external {
		path, err := vectorFile(name)
		if err != nil {
			return nil, 0, fmt.Errorf("vectors of %q: %w", name, err)
		}
		if err := s.MapColumn(vfs.OrDefault(fsys), name, path); err != nil {
			return nil, 0, err
		}
	}
	nidx := r.u32()
	if r.err != nil || uint64(nidx) > uint64(len(r.b)) {
		return nil, 0, errkind.Corruptf("corrupt checkpoint: bad index count")
	}
	for range nidx {
		key := string(r.bytes(int(r.u32())))
		raw := append([]byte(nil), r.bytes(int(r.u32()))...)
		n := r.u64()
		if r.err != nil || n > uint64(len(r.b)) {
			return nil, 0, errkind.Corruptf("corrupt checkpoint: index %q truncated", key)
		}
		data := r.bytes(int(n))
		rebuilt, err := s.loadIndex(key, raw, data)
		if err != nil {
			return nil, 0, errkind.Corruptf("corrupt checkpoint: %w", err)
		}
		if rebuilt {
			s.rebuilt = append(s.rebuilt, key)
		}
	}
	ngraph := r.u32()
	if r.err != nil || uint64(ngraph) > uint64(len(r.b)) {
		return nil, 0, errkind.Corruptf("corrupt checkpoint: bad graph count")
	}
	for range ngraph {
		name := string(r.bytes(int(r.u32())))
		np := r.u32()
		if r.err != nil || uint64(np)*4 > uint64(len(r.b)) {
			return nil, 0, errkind.Corruptf("corrupt checkpoint: graph %q: bad pending count", name)
		}
		pend := make(map[uint32]struct{}, np)
		for range np {
			pend[r.u32()] = struct{}{}
		}
		n := r.u64()
		if r.err != nil || n > uint64(len(r.b)) {
			return nil, 0, errkind.Corruptf("corrupt checkpoint: graph %q truncated", name)
		}
		data := r.bytes(int(n))
		s.loadGraph(name, pend, data)
	}
	if !v4 {
		if err := s.readCodes(r); err != nil {
			return nil, 0, err
		}
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, 0, errkind.Corruptf("corrupt checkpoint: trailing bytes")
	}
	s.PrepareRead()
	return s, applied, nil
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		if r.err == nil {
			r.err = io.ErrUnexpectedEOF
		}
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte() byte {
	b := r.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) u32() uint32 {
	b := r.bytes(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *reader) u64() uint64 {
	b := r.bytes(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// vector reads one stored vector of sp's datatype as float32 (exact:
// every float16 and uint8 value is a float32): k sub-vectors of a
// multivector column (1 for others), flattened.
func (r *reader) vector(sp VectorSpec, k int) []float32 {
	n := k * sp.Dim
	if r.err != nil {
		return nil
	}
	v := make([]float32, n)
	switch sp.Datatype {
	case Float16:
		b := r.bytes(2 * n)
		if b == nil {
			return v
		}
		for j := range v {
			v[j] = vector.Float16ToFloat32(binary.LittleEndian.Uint16(b[2*j:]))
		}
	case Uint8:
		for j, x := range r.bytes(n) {
			v[j] = float32(x)
		}
	default:
		for j := range v {
			v[j] = math.Float32frombits(r.u32())
		}
	}
	return v
}

// sparseVector reads one stored sparse vector: its indices must be strictly
// ascending and its values finite, as the store keeps them.
func (r *reader) sparseVector() (point.SparseVector, error) {
	n := r.u32()
	if r.err != nil || uint64(n)*8 > uint64(len(r.b)) {
		return point.SparseVector{}, fmt.Errorf("bad length")
	}
	v := point.SparseVector{Indices: make([]uint32, n), Values: make([]float32, n)}
	for j := range v.Indices {
		v.Indices[j] = r.u32()
	}
	for j := range v.Values {
		v.Values[j] = math.Float32frombits(r.u32())
	}
	if !v.IsSorted() {
		return point.SparseVector{}, fmt.Errorf("indices out of order")
	}
	if err := v.CheckFinite(); err != nil {
		return point.SparseVector{}, err
	}
	return v, nil
}

// sparseNames lists the sparse columns in order.
func (s *Store) sparseNames() []string {
	out := make([]string, 0, len(s.sparse))
	for n := range s.sparse {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
