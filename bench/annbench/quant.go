package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/shoaldb/shoal/internal/index/hnsw"
	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vector/quant"
)

// quantPresets name the -quant settings; anything else is taken as a
// QuantizationConfig JSON.
var quantPresets = map[string]string{
	"scalar":  `{"scalar":{"type":"int8"}}`,
	"binary":  `{"binary":{}}`,
	"product": `{"product":{"compression":"x16"}}`,
}

// quantScorer adapts a quant.Scorer to the graph's internal distance, as
// the segment does for a quantized column.
type quantScorer struct {
	qs   quant.Scorer
	dist vector.Distance
}

// Rows hands the graph the codes to prefetch (quant.Rows).
func (s quantScorer) Rows() ([]byte, int) {
	if r, ok := s.qs.(quant.Rows); ok {
		return r.Rows()
	}
	return nil, 0
}

func (s quantScorer) Dist(off uint32) float32 {
	sc := s.qs.Score(off)
	switch s.dist {
	case vector.Cosine, vector.Dot:
		return -sc
	case vector.Euclid:
		return sc * sc
	}
	return sc
}

// runShoalQuantized quantizes the base vectors, then measures the graph
// walk over the codes (g built on the originals, as a sealed segment's)
// taking k*oversampling candidates and rescoring them with the float32
// vectors, Qdrant's search with quantization rescore=true.
func runShoalQuantized(ds *dataset, truth []uint32, p runParams, g *hnsw.Graph, spec string, oversampling float64, logf func(string, ...any)) (*engineResult, func() []curvePoint, error) {
	raw := spec
	if s, ok := quantPresets[spec]; ok {
		raw = s
	}
	cfg, err := quant.ParseConfig(json.RawMessage(raw))
	if err != nil || cfg == nil {
		return nil, nil, fmt.Errorf("-quant %q: %v", spec, err)
	}
	vecs := &flatVecs{dim: ds.dim, data: ds.base}
	cpu0 := processCPU()
	start := time.Now()
	enc, err := quant.Build(cfg, ds.distance, ds.dim, ds.n(), vecs.Vector, p.seed)
	if err != nil {
		return nil, nil, fmt.Errorf("quantize: %w", err)
	}
	buildSec := time.Since(start).Seconds()
	cands := max(p.k, int(float64(p.k)*oversampling))
	name := fmt.Sprintf("Shoal %s rescore x%g", cfg.Kind, oversampling)
	logf("%s: codes built in %.1fs, %s", name, buildSec, mib(int64(enc.MemoryBytes())))
	res := &engineResult{
		Name:       name,
		Detail:     fmt.Sprintf("graph walk over %s codes (%s, %s), %d candidates rescored with float32", cfg.Kind, raw, mib(int64(enc.MemoryBytes())), cands),
		BuildSec:   buildSec,
		BuildCPU:   processCPU() - cpu0,
		GraphBytes: int64(g.MemoryBytes()),
		IndexBytes: int64(g.MemoryBytes()) + int64(enc.MemoryBytes()) + int64(4*len(ds.base)),
	}
	nq := ds.nq()
	found := make([]uint32, nq*p.k)
	scratch := make([]hnsw.Result, 0, cands)
	search := func(ef, lo, hi int) {
		for i := lo; i < hi; i++ {
			q := ds.query(i)
			r, _ := g.SearchScorer(context.Background(), quantScorer{enc.Scorer(q), ds.distance}, cands, ef, nil) // never done: no error
			scratch = scratch[:0]
			for _, h := range r {
				scratch = append(scratch, hnsw.Result{Off: h.Off, Score: ds.distance.Score(q, vecs.Vector(h.Off))})
			}
			slices.SortFunc(scratch, func(a, b hnsw.Result) int {
				switch {
				case ds.distance.Better(a.Score, b.Score):
					return -1
				case ds.distance.Better(b.Score, a.Score):
					return 1
				}
				return 0
			})
			row := found[i*p.k : (i+1)*p.k]
			for j := range row {
				row[j] = noID
				if j < len(scratch) {
					row[j] = scratch[j].Off
				}
			}
		}
	}
	measure := func() []curvePoint {
		defer runtime.KeepAlive(enc)
		return measureCurve(name, nq, p, truth, found, search, logf)
	}
	res.Curve = measure()
	return res, measure, nil
}
