package hnsw

import (
	"slices"
	"strings"
)

// The payload links section (format version 2), after the upper levels:
//
//	label count u32; per label, ascending: len u32 + bytes
//	node count of the graph when the links were built u32
//	node count u32 (0: no links; else highest node with links + 1, at most cap)
//	per node below it: link count u16; then all those links u32
//
// A graph without payload links writes two zero words (no built count).

func (g *Graph) encodePayloadLinks(e *encoder) {
	p := g.plinks.Load()
	if p == nil {
		e.u32(0)
		e.u32(0)
		return
	}
	e.u32(uint32(len(p.labels)))
	for _, s := range p.labels {
		e.u32(uint32(len(s)))
		e.bytes([]byte(s))
	}
	e.u32(uint32(p.built))
	n := len(p.start) - 1
	for n > 0 && p.start[n] == p.start[n-1] {
		n-- // trailing nodes without links
	}
	e.u32(uint32(n))
	for off := range n {
		e.u16(uint16(p.start[off+1] - p.start[off]))
	}
	for _, nb := range p.links[:p.start[n]] {
		e.u32(nb)
	}
}

// maxLabelBytes bounds one decoded label; a label is a payload value.
const maxLabelBytes = 1 << 20

// payloadLinks reads the section; has reports a present node. It returns
// nil for a graph without payload links.
func (d *decoder) payloadLinks(capN int, has func(uint32) bool) (*payloadLinks, error) {
	nl := int(d.u32())
	var labels []string
	for i := 0; i < nl && d.err == nil; i++ {
		n := int(d.u32())
		if n > maxLabelBytes {
			return nil, corrupt("payload block label of %d bytes", n)
		}
		var sb strings.Builder
		for n > 0 && d.err == nil {
			k := min(n, len(d.buf))
			sb.Write(d.read(d.buf[:k]))
			n -= k
		}
		labels = append(labels, sb.String())
	}
	built := 0
	if nl > 0 {
		built = int(d.u32())
	}
	nodes := int(d.u32())
	if d.err != nil {
		return nil, d.err
	}
	if !slices.IsSorted(labels) || len(slices.Compact(slices.Clone(labels))) != len(labels) {
		return nil, corrupt("payload block labels not sorted and distinct")
	}
	if nodes > capN {
		return nil, corrupt("payload links for %d nodes, capacity %d", nodes, capN)
	}
	if nl == 0 && nodes == 0 {
		return nil, nil
	}
	if nl == 0 {
		return nil, corrupt("payload links without blocks")
	}
	counts := d.u16s(nodes)
	if d.err != nil {
		return nil, d.err
	}
	if built > maxCap {
		return nil, corrupt("payload links built over %d nodes", built)
	}
	p := &payloadLinks{start: make([]uint32, nodes+1), labels: labels, built: built}
	total := 0
	for off, c := range counts {
		if c > 0 && !has(uint32(off)) {
			return nil, corrupt("payload links of absent node %d", off)
		}
		total += int(c)
		p.start[off+1] = uint32(total)
	}
	p.links = d.u32s(make([]uint32, 0, min(total, 1<<16)), total)
	if d.err != nil {
		return nil, d.err
	}
	for off := range nodes {
		for _, nb := range p.of(uint32(off)) {
			if !has(nb) || nb == uint32(off) {
				return nil, corrupt("node %d has payload link to %d", off, nb)
			}
		}
	}
	return p, nil
}
