package strict

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/ops"
)

// Facts is what the checks ask of the collection they guard. Each method
// is called only when a configured key needs its answer.
type Facts interface {
	// Indexes returns the payload indexes by key (point.Path text).
	Indexes() map[string]Index
	// VectorIndexing returns the HNSW m and payload_m in force for a
	// vector (its own hnsw_config over the collection's), and whether it
	// is a sparse vector (always indexed).
	VectorIndexing(name string) (m, payloadM uint64, sparse bool)
	// Points is the number of points.
	Points() uint64
	// VectorBytes is the size of the stored vectors.
	VectorBytes() uint64
	// PayloadBytes is the size of the stored payloads.
	PayloadBytes() uint64
	// Estimate is the planner's expected number of points f selects.
	Estimate(f *filter.Filter) uint64
	// MultivectorDim is the dimension of the sub-vectors of a multivector
	// (vectors of it come flattened), and false when name is not one.
	MultivectorDim(name string) (int, bool)
}

// MemoryFunc reports the process's resident memory as a percentage of the
// memory it may use, and false when it cannot tell.
type MemoryFunc func() (percent uint64, ok bool)

// sizeRefresh is how many size checks share one reading of the collection
// sizes (Qdrant's CollectionSizeStatsCache: UPDATE_INTERVAL = 32).
const sizeRefresh = 32

// Guard enforces one collection's strict mode.
type Guard struct {
	now    func() time.Time
	memory MemoryFunc

	mu struct {
		sync.Mutex
		cfg         *Config // nil: none; read-only once set
		raw         []byte  // cfg's canonical JSON, to see a change
		read, write *bucket // nil: no such limit (or strict mode off)
		// The sizes read every sizeRefresh checks, as Qdrant caches
		// them: the vector and payload bytes cost a pass over the points.
		sizeChecks   uint64
		vectorBytes  uint64
		payloadBytes uint64
	}
}

// NewGuard returns a Guard with no strict mode. now is the clock of the
// rate limits (nil: time.Now), memory the resident memory reader of
// max_resident_memory_percent (nil: ResidentMemoryPercent).
func NewGuard(now func() time.Time, memory MemoryFunc) *Guard {
	if now == nil {
		now = time.Now
	}
	if memory == nil {
		memory = ResidentMemoryPercent
	}
	return &Guard{now: now, memory: memory}
}

// Configure sets the strict_mode_config in force. A new configuration
// (any change) starts new rate limit buckets, full, as Qdrant's
// on_strict_mode_config_update does, and has the next size check read the
// sizes afresh; the same one keeps both. A config
// that does not parse turns strict mode off and is returned as an error for
// the caller to report.
func (g *Guard) Configure(raw json.RawMessage) error {
	cfg, err := Parse(raw)
	var canon []byte
	if err == nil && cfg != nil {
		canon, _ = json.Marshal(cfg)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err == nil && bytes.Equal(canon, g.mu.raw) && (cfg == nil) == (g.mu.cfg == nil) {
		return nil
	}
	if err != nil {
		cfg, canon = nil, nil
	}
	g.mu.cfg, g.mu.raw = cfg, canon
	g.mu.read, g.mu.write = nil, nil
	g.mu.sizeChecks = 0 // a size limit just set reads the sizes at once
	if cfg.On() {
		now := g.now()
		if cfg.ReadRateLimit != nil {
			g.mu.read = newBucket(*cfg.ReadRateLimit, now)
		}
		if cfg.WriteRateLimit != nil {
			g.mu.write = newBucket(*cfg.WriteRateLimit, now)
		}
	}
	return err
}

// active returns the configuration when strict mode is on, else nil.
func (g *Guard) active() *Config {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.mu.cfg.On() {
		return nil
	}
	return g.mu.cfg
}

// checkedKey marks a context whose reads were checked and charged already.
type checkedKey struct{}

// within marks ctx as inside a request that was checked and charged as a
// whole (a batch, a query served by a search), so that its parts are not
// checked or charged again.
func within(ctx context.Context) context.Context {
	return context.WithValue(ctx, checkedKey{}, true)
}

func checked(ctx context.Context) bool {
	v, _ := ctx.Value(checkedKey{}).(bool)
	return v
}

// takeRead charges a read; cost 0 passes.
func (g *Guard) takeRead(cost uint64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mu.read == nil {
		return nil
	}
	return g.mu.read.take(cost, g.now(), "Read")
}

// takeWrites charges each write in turn; when one does not pass, the
// tokens of those before it are given back (none of the batch is applied)
// and its error returned.
func (g *Guard) takeWrites(costs []uint64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.mu.write
	if b == nil {
		return nil
	}
	now := g.now()
	for i, c := range costs {
		if err := b.take(c, now, "Write"); err != nil {
			for _, done := range costs[:i] {
				b.give(done)
			}
			return err
		}
	}
	return nil
}

// sizes returns the collection's vector and payload bytes as last read,
// reading them (those asked for) on the first check and every sizeRefresh
// checks after.
func (g *Guard) sizes(f Facts, vectors, payloads bool) (uint64, uint64) {
	g.mu.Lock()
	n := g.mu.sizeChecks
	g.mu.sizeChecks++
	v, p := g.mu.vectorBytes, g.mu.payloadBytes
	g.mu.Unlock()
	if n%sizeRefresh != 0 {
		return v, p
	}
	if vectors {
		v = f.VectorBytes()
	}
	if payloads {
		p = f.PayloadBytes()
	}
	g.mu.Lock()
	g.mu.vectorBytes, g.mu.payloadBytes = v, p
	g.mu.Unlock()
	return v, p
}

// checkTimeout holds the client's timeout against max_timeout (Qdrant's
// check_timeout), in whole seconds as the APIs take it.
func (c *Config) checkTimeout(ctx context.Context) error {
	d, ok := ops.Timeout(ctx)
	if !ok || c.MaxTimeout == nil {
		return nil
	}
	secs := uint64((d + time.Second - 1) / time.Second)
	return limit("timeout", secs, *c.MaxTimeout)
}
