package hnsw

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"math/bits"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/vector"
)

// The encoding, little endian, all of it covered by the CRC-32C trailer:
//
//	magic "SHOALHNS", version u32
//	M, EfConstruct, PayloadM, Dim, FullScanThreshold, flags (none yet) u32; Seed u64
//	distance: len u8 + bytes
//	cap u32 (highest present offset + 1), entry u64, level rng state: len u8 + bytes
//	present, deleted: ceil(cap/32) u32 words each
//	per present node, ascending offset: level u8
//	per present node: level-0 link count u16; then all those links u32
//	per present node, per level 1..level: count u16; then all those links u32
//	version 2: payload links (see payload_persist.go)
//	crc32c u32
//
// Arrays are read in bounded chunks so garbage cannot make Decode allocate
// much more than the input's size before it fails.
const (
	magic   = "SHOALHNS"
	version = 2 // 2 added payload links; 1 is still read
	maxCap  = 1 << 31
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Encode writes the graph. It takes the writer lock, so the encoding is a
// consistent snapshot; searches go on meanwhile. Vectors are not written:
// they belong to the caller.
func (g *Graph) Encode(w io.Writer) error {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	l := g.lay.Load()
	capN := 0
	for off := l.cap - 1; off >= 0; off-- {
		if l.has(uint32(off)) {
			capN = off + 1
			break
		}
	}
	rngState, err := g.pcg.MarshalBinary()
	if err != nil {
		return fmt.Errorf("hnsw: encode rng: %w", err)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	e := &encoder{w: bw, crc: crc32.New(castagnoli)}
	e.bytes([]byte(magic))
	e.u32(version)
	c := g.cfg
	flags := 0
	for _, v := range []int{c.M, c.EfConstruct, c.PayloadM, c.Dim, c.FullScanThreshold, flags} {
		e.u32(uint32(v))
	}
	e.u64(c.Seed)
	e.short(string(c.Distance))
	e.u32(uint32(capN))
	e.u64(g.entry.Load())
	e.short(string(rngState))
	words := (capN + 31) / 32
	for _, set := range [][]uint32{l.present, l.deleted} {
		for _, w := range set[:words] {
			e.u32(w)
		}
	}
	present := func(yield func(uint32) bool) {
		for off := range uint32(capN) {
			if l.has(off) && !yield(off) {
				return
			}
		}
	}
	for off := range present {
		e.u8(uint8(g.level(l, off)))
	}
	// Level 0, then upper levels node by node.
	for off := range present {
		blk := g.block(l, off, 0)
		e.u16(uint16(blk[0]))
	}
	for off := range present {
		blk := g.block(l, off, 0)
		for _, nb := range blk[1 : 1+blk[0]] {
			e.u32(nb)
		}
	}
	for off := range present {
		for lev := 1; lev <= g.level(l, off); lev++ {
			e.u16(uint16(g.block(l, off, lev)[0]))
		}
	}
	for off := range present {
		for lev := 1; lev <= g.level(l, off); lev++ {
			blk := g.block(l, off, lev)
			for _, nb := range blk[1 : 1+blk[0]] {
				e.u32(nb)
			}
		}
	}
	g.encodePayloadLinks(e)
	sum := e.crc.Sum32()
	var t [4]byte
	binary.LittleEndian.PutUint32(t[:], sum)
	if e.err == nil {
		_, e.err = bw.Write(t[:])
	}
	if e.err == nil {
		e.err = bw.Flush()
	}
	if e.err != nil {
		return fmt.Errorf("hnsw: encode: %w", e.err)
	}
	return nil
}

type encoder struct {
	w   *bufio.Writer
	crc hash.Hash32
	buf [8]byte
	err error
}

func (e *encoder) bytes(b []byte) {
	if e.err != nil {
		return
	}
	e.crc.Write(b)
	_, e.err = e.w.Write(b)
}

func (e *encoder) u8(v uint8) { e.buf[0] = v; e.bytes(e.buf[:1]) }
func (e *encoder) u16(v uint16) {
	binary.LittleEndian.PutUint16(e.buf[:2], v)
	e.bytes(e.buf[:2])
}
func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:4], v)
	e.bytes(e.buf[:4])
}
func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:8], v)
	e.bytes(e.buf[:8])
}
func (e *encoder) short(s string) { e.u8(uint8(len(s))); e.bytes([]byte(s)) }

// Decode reads a graph written by Encode, over the caller's vectors (which
// must hold Dim floats for every offset the graph contains: Decode does not
// read them). It reads exactly the encoding from r. Any damage is an error
// wrapping errkind.ErrCorrupt (or the reader's error), never a panic.
func Decode(r io.Reader, vecs Vectors) (*Graph, error) {
	d := &decoder{r: r, crc: crc32.New(castagnoli)}
	g, err := d.graph(vecs)
	if err == nil && d.err == nil {
		var t [4]byte
		if _, rerr := io.ReadFull(r, t[:]); rerr != nil {
			d.fail(rerr)
		} else if binary.LittleEndian.Uint32(t[:]) != d.crc.Sum32() {
			err = corrupt("checksum mismatch")
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if err != nil {
		return nil, err
	}
	return g, nil
}

type decoder struct {
	r   io.Reader
	crc hash.Hash32
	buf [1 << 12]byte
	err error
}

func (d *decoder) fail(err error) {
	if d.err != nil {
		return
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errkind.Corruptf("hnsw: corrupt graph encoding: truncated: %w", err)
	} else {
		err = fmt.Errorf("hnsw: decode: %w", err)
	}
	d.err = err
}

// read fills b (at most len(d.buf)) or records an error and zeroes b.
func (d *decoder) read(b []byte) []byte {
	if d.err == nil {
		if _, err := io.ReadFull(d.r, b); err != nil {
			d.fail(err)
		} else {
			d.crc.Write(b)
			return b
		}
	}
	clear(b)
	return b
}

func (d *decoder) u8() uint8   { return d.read(d.buf[:1])[0] }
func (d *decoder) u16() uint16 { return binary.LittleEndian.Uint16(d.read(d.buf[:2])) }
func (d *decoder) u32() uint32 { return binary.LittleEndian.Uint32(d.read(d.buf[:4])) }
func (d *decoder) u64() uint64 { return binary.LittleEndian.Uint64(d.read(d.buf[:8])) }
func (d *decoder) short() string {
	n := int(d.u8())
	return string(d.read(d.buf[:n]))
}

// u32s reads n words in chunks, so the slice grows only as data arrives.
func (d *decoder) u32s(dst []uint32, n int) []uint32 {
	for n > 0 && d.err == nil {
		k := min(n, len(d.buf)/4)
		b := d.read(d.buf[:4*k])
		for i := range k {
			dst = append(dst, binary.LittleEndian.Uint32(b[4*i:]))
		}
		n -= k
	}
	return dst
}

func (d *decoder) u16s(n int) []uint16 {
	var dst []uint16
	for n > 0 && d.err == nil {
		k := min(n, len(d.buf)/2)
		b := d.read(d.buf[:2*k])
		for i := range k {
			dst = append(dst, binary.LittleEndian.Uint16(b[2*i:]))
		}
		n -= k
	}
	return dst
}

func (d *decoder) u8s(n int) []uint8 {
	var dst []uint8
	for n > 0 && d.err == nil {
		k := min(n, len(d.buf))
		dst = append(dst, d.read(d.buf[:k])...)
		n -= k
	}
	return dst
}

// corrupt reports an encoding that cannot be a graph: bad magic or
// version, a checksum mismatch, truncation, or links that break the
// graph's invariants. It matches errkind.ErrCorrupt.
func corrupt(format string, args ...any) error {
	return errkind.Corruptf("hnsw: corrupt graph encoding: "+format, args...)
}

func (d *decoder) graph(vecs Vectors) (*Graph, error) {
	if string(d.read(d.buf[:len(magic)])) != magic || d.err != nil {
		if d.err != nil {
			return nil, d.err
		}
		return nil, corrupt("bad magic")
	}
	v := d.u32()
	if v != 1 && v != version {
		return nil, corrupt("unknown version %d", v)
	}
	var f [6]uint32
	for i := range f {
		f[i] = d.u32()
	}
	for _, v := range f {
		if v > math.MaxInt32 {
			return nil, corrupt("config field %d out of range", v)
		}
	}
	if f[5] != 0 {
		return nil, corrupt("unknown flags %#x", f[5])
	}
	cfg := Config{M: int(f[0]), EfConstruct: int(f[1]), PayloadM: int(f[2]), Dim: int(f[3]), FullScanThreshold: int(f[4])}
	cfg.Seed = d.u64()
	cfg.Distance = vector.Distance(d.short())
	capN := int(d.u32())
	entry := d.u64()
	rngState := d.short()
	if d.err != nil {
		return nil, d.err
	}
	if cfg.M == 0 || cfg.EfConstruct == 0 {
		return nil, corrupt("zero m or ef_construct")
	}
	g, err := New(cfg, vecs)
	if err != nil {
		return nil, corrupt("config: %w", err)
	}
	if err := g.pcg.UnmarshalBinary([]byte(rngState)); err != nil {
		return nil, corrupt("rng state: %w", err)
	}
	if capN > maxCap {
		return nil, corrupt("capacity %d", capN)
	}
	words := (capN + 31) / 32
	present := d.u32s(nil, words)
	deleted := d.u32s(nil, words)
	if d.err != nil {
		return nil, d.err
	}
	if r := capN % 32; r != 0 && (present[words-1]>>r != 0 || deleted[words-1]>>r != 0) {
		return nil, corrupt("bits past capacity")
	}
	nodes, dead := 0, 0
	for i := range present {
		if deleted[i]&^present[i] != 0 {
			return nil, corrupt("deleted node that is not present")
		}
		nodes += bits.OnesCount32(present[i])
		dead += bits.OnesCount32(deleted[i])
	}
	if capN > 0 && present[words-1]>>((capN-1)%32)&1 == 0 {
		return nil, corrupt("capacity past the highest node")
	}
	has := func(off uint32) bool { return int(off) < capN && present[off>>5]&(1<<(off&31)) != 0 }
	levels := d.u8s(nodes)
	counts0 := d.u16s(nodes)
	if d.err != nil {
		return nil, d.err
	}
	upperWords, total0, topLevel := 0, 0, -1
	for i := range nodes {
		if int(levels[i]) >= maxLevels {
			return nil, corrupt("level %d", levels[i])
		}
		if int(counts0[i]) > g.m0 {
			return nil, corrupt("level-0 link count %d over %d", counts0[i], g.m0)
		}
		upperWords += int(levels[i])
		total0 += int(counts0[i])
		topLevel = max(topLevel, int(levels[i]))
	}
	links0 := d.u32s(make([]uint32, 0, min(total0, 1<<16)), total0)
	countsU := d.u16s(upperWords)
	if d.err != nil {
		return nil, d.err
	}
	totalU := 0
	for _, c := range countsU {
		if int(c) > g.m {
			return nil, corrupt("upper link count %d over %d", c, g.m)
		}
		totalU += int(c)
	}
	linksU := d.u32s(make([]uint32, 0, min(totalU, 1<<16)), totalU)
	if d.err != nil {
		return nil, d.err
	}
	var plinks *payloadLinks
	if v >= 2 {
		if plinks, err = d.payloadLinks(capN, has); err != nil {
			return nil, err
		}
	}

	// Everything is read; lay it out and check every link.
	l := g.newLayout(capN)
	copy(l.present, present)
	copy(l.deleted, deleted)
	i := 0
	for off := range uint32(capN) {
		if !has(off) {
			continue
		}
		if lv := int(levels[i]); lv > 0 {
			l.upper[off] = make([]uint32, lv*g.strideU)
		}
		i++
	}
	level := func(off uint32) int { return g.level(l, off) }
	p0, pu, cu := 0, 0, 0
	i = 0
	for off := range uint32(capN) {
		if !has(off) {
			continue
		}
		fill := func(lev, n int, src []uint32) error {
			blk := g.block(l, off, lev)
			for j, nb := range src[:n] {
				if !has(nb) || level(nb) < lev {
					return corrupt("node %d links to %d on level %d", off, nb, lev)
				}
				blk[1+j] = nb
			}
			blk[0] = uint32(n)
			return nil
		}
		n := int(counts0[i])
		if err := fill(0, n, links0[p0:]); err != nil {
			return nil, err
		}
		p0 += n
		for lev := 1; lev <= int(levels[i]); lev++ {
			n := int(countsU[cu])
			cu++
			if err := fill(lev, n, linksU[pu:]); err != nil {
				return nil, err
			}
			pu += n
		}
		i++
	}
	switch ep, top := unpackEntry(entry); {
	case nodes == 0 && entry != 0, nodes > 0 && entry&entryFlag == 0:
		return nil, corrupt("entry point %#x for %d nodes", entry, nodes)
	case nodes > 0 && (!has(ep) || level(ep) != top || top != topLevel || entry>>40 != entryFlag>>40):
		return nil, corrupt("entry point %d at level %d", ep, top)
	}
	g.lay.Store(l)
	g.plinks.Store(plinks)
	g.entry.Store(entry)
	g.nodes.Store(int64(nodes))
	g.dead.Store(int64(dead))
	return g, nil
}
