package segment

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/vector/quant"
)

// writeCodes writes the quantized section of a checkpoint (see the format
// in checkpoint.go): per column with codes, its config, stale offsets and
// the codes, so that a restart does not retrain.
func (s *Store) writeCodes(bw *bufio.Writer, data *bytes.Buffer, u32 func(uint32), u64 func(uint64), str func(string)) error {
	var names []string
	for n, vi := range s.vindex {
		if vi.codes.Load() != nil {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	u32(uint32(len(names)))
	for _, n := range names {
		q := s.vindex[n].codes.Load()
		data.Reset()
		if err := q.enc.Encode(data); err != nil {
			return fmt.Errorf("encode quantized vectors of %q: %w", n, err)
		}
		str(n)
		str(string(q.raw))
		stale := q.staleOffsets()
		u32(uint32(len(stale)))
		for _, off := range stale {
			u32(off)
		}
		u64(uint64(data.Len()))
		bw.Write(data.Bytes())
		if c := s.columns[n]; c != nil && c.rows != nil {
			u32(uint32(len(q.sub) - 1))
			for i := range len(q.sub) - 1 {
				u32(uint32(q.sub[i+1] - q.sub[i]))
			}
		}
	}
	return nil
}

// readCodes reads the quantized section. Codes that do not decode, or do
// not fit their column, are dropped (reported by RebuiltIndexes) and built
// again with the graph's next optimization.
func (s *Store) readCodes(r *reader) error {
	n := r.u32()
	if r.err != nil || uint64(n) > uint64(len(r.b)) {
		return errkind.Corruptf("corrupt checkpoint: bad quantized count")
	}
	for range n {
		name := string(r.bytes(int(r.u32())))
		raw := r.bytes(int(r.u32()))
		ns := r.u32()
		if r.err != nil || uint64(ns)*4 > uint64(len(r.b)) {
			return errkind.Corruptf("corrupt checkpoint: quantized %q: bad stale count", name)
		}
		stale := make([]uint32, ns)
		for i := range stale {
			stale[i] = r.u32()
		}
		size := r.u64()
		if r.err != nil || size > uint64(len(r.b)) {
			return errkind.Corruptf("corrupt checkpoint: quantized %q truncated", name)
		}
		data := r.bytes(int(size))
		var counts []uint32
		if c := s.columns[name]; c != nil && c.rows != nil {
			nc := r.u32()
			if r.err != nil || uint64(nc)*4 > uint64(len(r.b)) {
				return errkind.Corruptf("corrupt checkpoint: quantized %q: bad multivector count", name)
			}
			counts = make([]uint32, nc)
			for i := range counts {
				counts[i] = r.u32()
			}
		}
		if err := s.loadCodes(name, raw, stale, data, counts); err != nil {
			s.rebuilt = append(s.rebuilt, "quantization:"+name)
		}
	}
	return nil
}

// loadCodes installs decoded codes on a column that has a graph; counts
// are a multivector column's sub-vectors per offset in the codes.
func (s *Store) loadCodes(name string, raw []byte, stale []uint32, data []byte, counts []uint32) error {
	c, ok := s.columns[name]
	vi := s.vindex[name]
	if !ok || vi == nil || vi.graph.Load() == nil {
		return fmt.Errorf("quantized %q: no such indexed column", name)
	}
	cfg, err := quant.ParseConfig(raw)
	switch {
	case err != nil:
		return fmt.Errorf("quantized %q: config: %w", name, err)
	case cfg == nil:
		return fmt.Errorf("quantized %q: no quantization config", name)
	}
	dist, dim, _, err := quant.StreamInfo(data)
	switch {
	case err != nil:
		return fmt.Errorf("quantized %q: codes: %w", name, err)
	case dist != c.spec.Distance || dim != c.spec.Dim:
		return fmt.Errorf("quantized %q: codes for %s/%d do not fit the column (%s/%d)", name, dist, dim, c.spec.Distance, c.spec.Dim)
	}
	enc, err := quant.Decode(cfg, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("quantized %q: %w", name, err)
	}
	var sub []int
	if c.rows != nil {
		sub = make([]int, len(counts)+1)
		for i, k := range counts {
			sub[i+1] = sub[i] + int(k)
		}
		if sub[len(counts)] != enc.Len() {
			return fmt.Errorf("quantized %q: the codes hold %d sub-vectors, the offsets %d", name, enc.Len(), sub[len(counts)])
		}
	}
	q, err := newQuantized(cfg, enc, sub)
	if err != nil {
		return err
	}
	for _, off := range stale {
		q.markStale(off)
	}
	vi.codes.Store(q)
	return nil
}
