package collection

import "math"

// deferFrom is the shard's OptimizerParams.DeferFrom for cfg: Qdrant's
// CollectionParams::get_deferred_point_id. With prevent_unoptimized, an
// appendable segment shows the points that fit the indexing threshold
// (indexing_threshold KB, 10000 when unset, unbounded when 0) in the
// vector with the largest points among those with an HNSW graph (m or
// payload_m above 0): the threshold divided by that vector's bytes per
// point (4 per float32 element, 2 per float16, 1 per uint8 or turbo4,
// times 16 for a multivector, whose size Qdrant cannot predict), rounded
// up. 0 (off) without prevent_unoptimized or without such a vector.
func deferFrom(cfg *Config) int {
	o := cfg.OptimizerConfig
	if o.PreventUnoptimized == nil || !*o.PreventUnoptimized {
		return 0
	}
	kb := uint64(10000)
	switch t := o.IndexingThreshold; {
	case t == nil:
	case *t == 0:
		kb = math.MaxUint64
	default:
		kb = *t
	}
	threshold := kb * 1024
	if kb > math.MaxUint64/1024 {
		threshold = math.MaxUint64
	}
	best := uint64(0)
	for _, name := range cfg.Params.Vectors.Names() {
		p := cfg.Params.Vectors.Named[name]
		h := cfg.HnswConfig.Apply(p.HnswConfig)
		if h.M == 0 && (h.PayloadM == nil || *h.PayloadM == 0) {
			continue
		}
		elem := uint64(4)
		if p.Datatype != nil {
			switch *p.Datatype {
			case "float16":
				elem = 2
			case "uint8", "turbo4":
				elem = 1
			}
		}
		bytes := elem * max(p.Size, 1)
		if p.IsMulti() {
			bytes *= 16
		}
		n := threshold / bytes
		if threshold%bytes != 0 {
			n++
		}
		n = min(n, math.MaxUint32)
		if best == 0 || n < best {
			best = n
		}
	}
	return int(best)
}

// UpdateQueueInfo is Qdrant's UpdateQueueInfo in collection info: the
// operations queued and not yet applied, and, with prevent_unoptimized,
// the points deferred until their segment is optimized.
type UpdateQueueInfo struct {
	Length         uint64  `json:"length"`
	DeferredPoints *uint64 `json:"deferred_points,omitempty"`
}
