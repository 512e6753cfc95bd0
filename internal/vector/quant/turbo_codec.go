package quant

import (
	"fmt"
	"io"
	"math"
)

// The turbo part of the stream (codec.go), after the header:
//
//	u8 bits (1, 15 for 1.5, 2 or 4) | u32 rotated dimension
//	shift, scale: f32 arrays of the rotated dimension
//	codes: byte array, n rows | s, lengths: f32 arrays of n

func (e *turboEncoded) Encode(w io.Writer) error {
	enc := newEncoder(w, kindTurbo, e.dist, e.p.dim, e.n)
	enc.u8(uint8(e.p.bits))
	enc.u32(uint32(e.p.pd))
	enc.f32s(e.p.shift)
	enc.f32s(e.p.scale)
	enc.bytes(e.codes)
	enc.f32s(e.s)
	enc.f32s(e.norm)
	return enc.finish()
}

func decodeTurbo(d *decoder, cfg *Config) (Encoded, error) {
	b := turboBits(d.u8())
	pd := int(d.u32())
	if d.err != nil {
		return nil, d.err
	}
	if _, ok := map[turboBits]bool{1: true, 15: true, 2: true, 4: true}[b]; !ok {
		return nil, corruptf("unknown turbo bits %d", b)
	}
	if want := cfg.turboBitsOf(); b != want {
		return nil, fmt.Errorf("%w: stream turbo bits %d, config %d", ErrConfigMismatch, b, want)
	}
	if pd != b.paddedDim(d.dim) {
		return nil, corruptf("turbo rotated dimension %d for dimension %d", pd, d.dim)
	}
	e := &turboEncoded{p: turboParams{bits: b, dim: d.dim, pd: pd}, dist: d.dist, n: d.n}
	e.rowBytes, e.words = e.p.layout()
	e.p.shift = d.f32s(pd)
	e.p.scale = d.f32s(pd)
	if uint64(e.n)*uint64(e.rowBytes) > uint64(len(d.b)) {
		return nil, corruptf("truncated turbo codes")
	}
	e.codes = d.bytes(e.n * e.rowBytes)
	e.s = d.f32s(e.n)
	e.norm = d.f32s(e.n)
	if err := d.end(); err != nil {
		return nil, err
	}
	for i, sc := range e.p.scale {
		if !finite(sc) || !(sc > 0) || !finite(e.p.shift[i]) {
			return nil, corruptf("turbo coordinate %d: shift %v, scale %v", i, e.p.shift[i], sc)
		}
	}
	for i, s := range e.s {
		if !finite(s) || !(s >= 0) || !finite(e.norm[i]) || !(e.norm[i] >= 0) {
			return nil, corruptf("turbo vector %d: scale %v, length %v", i, s, e.norm[i])
		}
	}
	return e, nil
}

func finite(f float32) bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }
