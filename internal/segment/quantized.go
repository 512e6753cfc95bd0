package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vector/quant"
)

// quantized is a column's quantized codes, built together with its HNSW
// graph (the sealed form of a segment, as in Qdrant) from the config in
// IndexParams.Quantization. Vectors written after the codes were built
// are stale: their codes are wrong or absent, so scoring falls back to
// the stored vector for them.
type quantized struct {
	cfg *quant.Config
	raw []byte // cfg as JSON: what the codes were built from
	enc quant.Encoded
	// stale is a bitset over the encoded offsets: offsets whose vector
	// changed after encoding. Offsets past them are stale too. Written
	// under the store's write lock (or before the codes are published),
	// read under the read lock.
	stale []uint32
	// sub is set for a multivector column, whose codes are those of every
	// sub-vector, one code each, packed in offset order (as Qdrant
	// quantizes multivectors): offset off has codes [sub[off],
	// sub[off+1]). len(sub)-1 offsets are encoded.
	sub []int
}

func newQuantized(cfg *quant.Config, enc quant.Encoded, sub []int) (*quantized, error) {
	raw, err := configJSON(cfg)
	if err != nil {
		return nil, err
	}
	q := &quantized{cfg: cfg, raw: raw, enc: enc, sub: sub}
	q.stale = make([]uint32, (q.points()+31)/32)
	return q, nil
}

// points is the number of offsets the codes cover.
func (q *quantized) points() int {
	if q.sub != nil {
		return len(q.sub) - 1
	}
	return q.enc.Len()
}

// configJSON is the canonical JSON of a config; nil gives nil.
func configJSON(cfg *quant.Config) ([]byte, error) {
	if cfg == nil {
		return nil, nil
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode quantization config: %w", err)
	}
	return raw, nil
}

// matches reports whether the codes were built from cfg.
func (q *quantized) matches(cfg *quant.Config) bool {
	raw, err := configJSON(cfg)
	return err == nil && bytes.Equal(raw, q.raw)
}

func (q *quantized) isStale(off uint32) bool {
	w := int(off >> 5)
	return w >= len(q.stale) || int(off) >= q.points() || q.stale[w]&(1<<(off&31)) != 0
}

func (q *quantized) markStale(off uint32) {
	if w := int(off >> 5); w < len(q.stale) {
		q.stale[w] |= 1 << (off & 31)
	}
}

// staleOffsets lists the marked offsets in ascending order.
func (q *quantized) staleOffsets() []uint32 {
	var out []uint32
	for w, word := range q.stale {
		for b := range 32 {
			if word&(1<<b) != 0 {
				out = append(out, uint32(w<<5|b))
			}
		}
	}
	return out
}

// quantInput is the vector the quantizer sees for a stored vector v (as
// float32; one sub-vector of a multivector): the stored vector itself for
// float32 and float16 columns (already normalised for Cosine); for uint8,
// Qdrant's preprocessing: centred on 127 for binary quantization,
// normalised for Cosine otherwise.
func quantInput(c *column, cfg *quant.Config, v []float32) []float32 {
	if c.spec.Datatype != Uint8 {
		return v
	}
	if cfg.Kind == quant.Binary {
		for i := range v {
			v[i] -= 127
		}
		return v
	}
	if c.spec.Distance == vector.Cosine {
		vector.Normalize(v)
	}
	return v
}

// buildCodes trains and encodes the present vectors of c.
func buildCodes(c *column, cfg *quant.Config, seed uint64) (*quantized, error) {
	if c.rows != nil {
		return buildMultiCodes(c, cfg, seed)
	}
	buf := make([]float32, 0, c.spec.Dim)
	vec := func(off uint32) []float32 {
		if !c.has[off] {
			return nil
		}
		buf = c.appendTo(buf[:0], off)
		return quantInput(c, cfg, buf)
	}
	enc, err := quant.Build(cfg, c.spec.Distance, c.spec.Dim, c.slots(), vec, seed)
	if err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	return newQuantized(cfg, enc, nil)
}

// quantScorer scores a query against the codes, and against the stored
// vectors for stale offsets. It implements hnsw.Scorer.
type quantScorer struct {
	q     *quantized
	qs    quant.Scorer
	exact *colScorer
	dist  vector.Distance
	multi []quant.Scorer // multivector columns: one per query sub-vector
}

// scorer prepares q (preprocessed as the column's vectors are).
func (qz *quantized) scorer(c *column, q []float32) *quantScorer {
	if c.rows != nil {
		return qz.multiScorer(c, q)
	}
	in := q
	if c.spec.Datatype == Uint8 {
		b := make([]uint8, len(q))
		toU8(b, q)
		in = make([]float32, len(q))
		for i, x := range b {
			in[i] = float32(x)
		}
		in = quantInput(c, qz.cfg, in)
	}
	return &quantScorer{q: qz, qs: qz.enc.Scorer(in), exact: c.scorer(q), dist: c.spec.Distance}
}

// Score is the approximate user-facing score of the vector at off.
func (s *quantScorer) Score(off uint32) float32 {
	if s.q.isStale(off) {
		return s.exact.Score(off)
	}
	if s.multi != nil {
		return multiScore(s.dist, s.multiDist(off))
	}
	return s.qs.Score(off)
}

// Rows hands the graph the codes to prefetch (hnsw.RowScorer). Stale
// offsets are scored exactly instead; prefetching their codes is harmless.
// A multivector's codes are not one row per offset: none then.
func (s *quantScorer) Rows() ([]byte, int) {
	if r, ok := s.qs.(quant.Rows); ok && s.multi == nil {
		return r.Rows()
	}
	return nil, 0
}

// Dist is the graph's internal distance of the vector at off.
func (s *quantScorer) Dist(off uint32) float32 {
	if s.q.isStale(off) {
		return s.exact.Dist(off)
	}
	if s.multi != nil {
		return s.multiDist(off)
	}
	return internalDist(s.dist, s.qs.Score(off))
}

// internalDist converts an approximate user-facing score of one vector to
// the graph's internal distance.
func internalDist(dist vector.Distance, sc float32) float32 {
	switch dist {
	case vector.Cosine, vector.Dot:
		return -sc
	case vector.Euclid:
		return sc * sc
	}
	return sc
}

// VectorMemory is the memory one vector name takes in a store, by form.
type VectorMemory struct {
	Datatype Datatype
	// Quantization is the kind of the built codes, "" when there are none.
	Quantization quant.Kind
	// VectorBytes is the stored vectors in their datatype.
	VectorBytes int64
	// GraphBytes is the HNSW graph's links (0 before it is built).
	GraphBytes int64
	// QuantizedBytes is the codes and their trained parameters.
	QuantizedBytes int64
}

// VectorMemory reports the memory of each vector name's stored vectors,
// HNSW graph and quantized codes. Call it under the store's read lock.
func (s *Store) VectorMemory() map[string]VectorMemory {
	out := make(map[string]VectorMemory, len(s.columns))
	for name, c := range s.columns {
		m := VectorMemory{Datatype: c.spec.Datatype, VectorBytes: c.bytes()}
		if vi, ok := s.vindex[name]; ok {
			if g := vi.graph.Load(); g != nil {
				m.GraphBytes = int64(g.MemoryBytes())
			}
			if q := vi.codes.Load(); q != nil {
				m.Quantization = q.cfg.Kind
				m.QuantizedBytes = int64(q.enc.MemoryBytes() + 4*len(q.stale) + 8*len(q.sub))
			}
		}
		out[name] = m
	}
	return out
}

// nan32 reports a NaN; used to keep NaN scores out of rescoring.
func nan32(x float32) bool { return math.IsNaN(float64(x)) }
