package collection

import (
	"time"

	"github.com/shoaldb/shoal/internal/collection/strict"
	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/index/payload"
	"github.com/shoaldb/shoal/internal/shard"
)

// Option configures a Collection at Open.
type Option func(*options)

type options struct {
	now    func() time.Time
	memory strict.MemoryFunc
}

// WithClock sets the clock of the strict mode rate limits (default
// time.Now), so that tests move time instead of waiting for it.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithResidentMemory sets how strict mode's max_resident_memory_percent
// reads the process's resident memory (default
// strict.ResidentMemoryPercent).
func WithResidentMemory(f strict.MemoryFunc) Option { return func(o *options) { o.memory = f } }

// Strict mode's refusals, re-exported so that the APIs map them to their
// statuses without importing the strict package.
type (
	// StrictModeError is a request strict mode forbids (403 "Forbidden").
	StrictModeError = strict.Error
	// RateLimitError is a request a strict mode rate limit refuses (429).
	RateLimitError = strict.RateLimitError
)

// configureStrict puts cfg's strict_mode_config in force. A stored one
// that does not parse (written before strict mode was enforced) leaves
// strict mode off, loudly.
func (c *Collection) configureStrict(cfg *Config) {
	if err := c.guard.Configure(cfg.StrictModeConfig); err != nil {
		c.log.Warn("strict_mode_config does not parse; strict mode is off until it is updated",
			"collection", c.name, "err", err)
	}
}

// strictError turns the parse errors of a strict_mode_config in a create
// or update request into the collection's error kinds.
func strictError(err error) error {
	switch e := err.(type) {
	case *strict.ValidationError:
		return &ValidationError{Fields: e.Fields}
	case *strict.FormatError:
		return &FormatError{Msg: e.Msg}
	}
	return err
}

// facts answers strict mode's questions about the collection.
func (c *Collection) facts() strict.Facts { return collectionFacts{c} }

type collectionFacts struct{ c *Collection }

func (f collectionFacts) Indexes() map[string]strict.Index {
	out := map[string]strict.Index{}
	f.c.viewAll(func(r *shard.Reader) {
		for key, ix := range r.Indexes() {
			out[key] = strictIndex(ix.Schema)
		}
	})
	return out
}

func strictIndex(s payload.Schema) strict.Index {
	return strict.Index{
		Type:           string(s.Type),
		Prefix:         s.Prefix != nil && *s.Prefix,
		NoLookup:       !s.LookupEnabled(),
		NoRange:        !s.RangeEnabled(),
		PhraseMatching: s.PhraseEnabled(),
		Tenant:         s.IsTenant != nil && *s.IsTenant,
	}
}

func (f collectionFacts) VectorIndexing(name string) (m, payloadM uint64, sparse bool) {
	f.c.mu.RLock()
	defer f.c.mu.RUnlock()
	cfg := f.c.mu.cfg
	if isSparse(cfg, name) {
		return 0, 0, true
	}
	h := cfg.HnswConfig
	if p, ok := cfg.Params.Vectors.Named[name]; ok {
		h = h.Apply(p.HnswConfig)
	}
	payloadM = h.M
	if h.PayloadM != nil {
		payloadM = *h.PayloadM
	}
	return h.M, payloadM, false
}

// isSparse reports whether name is one of the collection's sparse vectors.
func isSparse(cfg *Config, name string) bool {
	_, ok := cfg.Params.SparseVectors[name]
	return ok
}

func (f collectionFacts) Points() uint64 { return uint64(f.c.Len()) }

func (f collectionFacts) MultivectorDim(name string) (int, bool) {
	p, ok := f.c.vectorParams()[name]
	if !ok || !p.IsMulti() {
		return 0, false
	}
	return int(p.Size), true
}

func (f collectionFacts) VectorBytes() uint64 {
	var n int64
	f.c.viewAll(func(r *shard.Reader) { n += r.VectorBytes() })
	return uint64(n)
}

func (f collectionFacts) PayloadBytes() uint64 {
	var n int64
	f.c.viewAll(func(r *shard.Reader) { n += r.PayloadBytes() })
	return uint64(n)
}

func (f collectionFacts) Estimate(flt *filter.Filter) uint64 {
	var n int
	f.c.viewAll(func(r *shard.Reader) { n += r.EstimateCount(flt) })
	return uint64(n)
}
