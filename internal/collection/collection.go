package collection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoaldb/shoal/internal/collection/strict"
	"github.com/shoaldb/shoal/internal/index/payload"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/shard"
	"github.com/shoaldb/shoal/internal/vfs"
)

// Collection is a named set of points with one configuration.
type Collection struct {
	name string
	dir  string
	log  *slog.Logger
	// digests caches the local replicas' digests (digest.go).
	digests digestCache

	mu struct {
		sync.RWMutex
		cfg *Config
	}
	fsys vfs.FS
	// lay is the current layout of the shards (holder.go); topoMu
	// serialises its changes (SetTopology, shard keys).
	lay    atomic.Pointer[layout]
	topoMu sync.Mutex
	// token tells this process's clock tags from those of an earlier run
	// of the peer (random per Open).
	token uint64
	// deactivation overrides defaultDeactivationWait (tests).
	deactivation time.Duration
	guard        *strict.Guard
	obs          observer                    // see Observe
	quota        atomic.Pointer[UpdateGuard] // see GuardUpdates
	// snapshotCap overrides maxTransferSnapshot (tests).
	snapshotCap int64
	// schema is the payload schema consensus committed (payload_schema.go).
	schema atomic.Pointer[map[string]json.RawMessage]
}

// Open opens (or creates) the collection's data under dir on fsys (nil:
// vfs.Default) with cfg: its shard_number shards, each under shards/<id>,
// and starts their update workers. Close stops them.
func Open(fsys vfs.FS, dir, name string, cfg *Config, log *slog.Logger, opts ...Option) (*Collection, error) {
	if log == nil {
		log = slog.Default()
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	c := &Collection{name: name, dir: dir, log: log, fsys: fsys, guard: strict.NewGuard(o.now, o.memory), token: rand.Uint64()}
	c.mu.cfg = cfg
	saved, err := c.loadShards()
	if err != nil {
		return nil, fmt.Errorf("open collection %q: %w", name, err)
	}
	custom := isCustom(cfg)
	var sets []*ReplicaSet
	keyOf := map[ShardID]ShardKey{}
	open := func(id ShardID) (*shard.Shard, error) {
		sh, err := c.openShard(cfg, id)
		if err != nil {
			for _, rs := range sets {
				if l, _ := rs.Local(); l != nil {
					l.Close()
				}
			}
			return nil, fmt.Errorf("open collection %q: shard %d: %w", name, id, err)
		}
		return sh, nil
	}
	switch {
	case saved != nil:
		for _, s := range saved.Shards {
			var sh *shard.Shard
			if s.Local {
				if sh, err = open(s.ID); err != nil {
					return nil, err
				}
			}
			sets = append(sets, newReplicaSet(s.ID, sh))
			if s.Key != "" {
				keyOf[s.ID] = s.Key
			}
		}
	case custom:
		// A custom collection starts with no shard: its keys bring them.
	default:
		n := shardCount(cfg)
		_, err := vfs.OrDefault(fsys).Stat(shardDir(dir, 1))
		oneOnDisk := n > 1 && errors.Is(err, fs.ErrNotExist)
		for i := range n {
			if i == 1 && oneOnDisk && c.legacy(sets[0], n) {
				break
			}
			sh, err := open(ShardID(i))
			if err != nil {
				return nil, err
			}
			sets = append(sets, newReplicaSet(ShardID(i), sh))
		}
	}
	lay := newLayout(sets, custom, keyOf)
	if saved != nil && saved.Cluster {
		// Placed by a topology: the replicas of the other peers and the
		// states come back with the next SetTopology; until then the
		// local shards serve reads and updates wait.
		lay.pending, lay.self = true, saved.Self
	}
	c.lay.Store(lay)
	for _, s := range c.locals() {
		s.Start()
	}
	c.mu.cfg = cfg
	c.configureStrict(cfg)
	// A configuration saved before a crash cut its vectors' change short
	// (vectors.go): the shard catches up before anything else reaches it.
	if err := c.syncVectors(context.Background(), cfg); err != nil {
		c.closeShards()
		return nil, fmt.Errorf("open collection %q: bring its vectors in line with its configuration: %w", name, err)
	}
	return c, nil
}

// legacy reports whether a collection whose configuration asks for n
// shards keeps its points in the one shard it was created with: before
// the shard holder, a collection had shards/0 only, whatever its
// shard_number said. Its points stay where they are (the ring would look
// for most of them in shards that do not hold them). A new collection
// whose creation stopped after shards/0 holds no point and gets all n.
func (c *Collection) legacy(first *ReplicaSet, n int) bool {
	l, _ := first.Local()
	var points int
	l.View(func(r *shard.Reader) { points = r.Len() })
	if points == 0 {
		return false
	}
	c.log.Warn("collection keeps the one shard it was created with, whatever its shard_number says",
		"collection", c.name, "shard_number", n, "points", points)
	return true
}

// openShard opens (or creates) the local replica of shard id with the
// options cfg gives; it is not started.
func (c *Collection) openShard(cfg *Config, id ShardID) (*shard.Shard, error) {
	if err := settleReplaced(vfs.OrDefault(c.fsys), shardDir(c.dir, id)); err != nil {
		return nil, fmt.Errorf("shard %d: settle an interrupted restore: %w", id, err)
	}
	if err := c.removeTransferLeftovers(id); err != nil {
		return nil, fmt.Errorf("shard %d: %w", id, err)
	}
	return c.openShardDir(cfg, id)
}

// openShardDir is openShard without settling an interrupted restore.
func (c *Collection) openShardDir(cfg *Config, id ShardID) (*shard.Shard, error) {
	specs := map[string]segment.VectorSpec{}
	for n, p := range cfg.Params.Vectors.Named {
		specs[n] = vectorSpec(p)
	}
	flush := time.Duration(satMul(cfg.OptimizerConfig.FlushIntervalSec, int64(time.Second)))
	vindex := map[string]segment.IndexParams{}
	for n, p := range cfg.Params.Vectors.Named {
		vindex[n] = indexParams(cfg, p)
	}
	return shard.Open(shardDir(c.dir, id), shard.Options{
		Vectors:        specs,
		Sparse:         sparseSpecs(cfg),
		WALSegmentSize: satMul(cfg.WalConfig.WalCapacityMB, 1<<20),
		WALSegAhead:    satInt(cfg.WalConfig.WalSegmentsAhead),
		CheckpointWAL:  satMul(cfg.WalConfig.WalCapacityMB, 1<<20),
		FlushInterval:  flush,
		Logger:         c.log.With("collection", c.name, "shard", id),
		VectorIndex:    vindex,
		IndexThreads:   indexThreads(cfg),
		Optimizer:      optimizerParams(cfg),
		FS:             c.fsys,
	})
}

// isCustom reports whether cfg asks for custom sharding.
func isCustom(cfg *Config) bool {
	return cfg.Params.ShardingMethod != nil && *cfg.Params.ShardingMethod == "custom"
}

// vectorSpec is how segments store one dense vector (a multivector when
// it has a multivector_config; PATCH cannot change that, as Qdrant's
// VectorParamsDiff has no multivector_config).
func vectorSpec(p VectorParams) segment.VectorSpec {
	return segment.VectorSpec{Dim: int(p.Size), Distance: p.Distance, Datatype: datatypeOf(p), OnDisk: vectorOnDisk(p), Multi: p.IsMulti()}
}

// indexParams derives the HNSW settings of one vector: the collection's
// hnsw_config with the vector's own overrides, and Qdrant's thresholds in
// KB of vector data turned into point counts.
func indexParams(cfg *Config, p VectorParams) segment.IndexParams {
	h := cfg.HnswConfig.Apply(p.HnswConfig)
	bytes := max(int(p.Size)*4, 1)
	kb := uint64(10000) // Qdrant's default indexing_threshold_kb
	if t := cfg.OptimizerConfig.IndexingThreshold; t != nil {
		kb = *t
	}
	threshold := 0 // 0 disables indexing, as indexing_threshold: 0 does
	if kb > 0 && h.M > 0 {
		threshold = max(int(satMul(kb, 1024)/int64(bytes)), 1)
	}
	payloadM := satInt(h.M) // Qdrant: payload_m unset means m
	if h.PayloadM != nil {
		payloadM = satInt(*h.PayloadM)
	}
	return segment.IndexParams{
		M:                 satInt(h.M),
		PayloadM:          payloadM,
		EfConstruct:       satInt(h.EfConstruct),
		IndexingThreshold: threshold,
		FullScanThreshold: int(satMul(h.FullScanThreshold, 1024) / int64(bytes)),
		Seed:              1,
		Quantization:      quantizationOf(cfg, p),
	}
}

// optimizerParams turns optimizers_config into the shard's terms.
func optimizerParams(cfg *Config) shard.OptimizerParams {
	o := cfg.OptimizerConfig
	p := shard.OptimizerParams{
		DeletedThreshold:      o.DeletedThreshold,
		VacuumMinVectorNumber: satInt(o.VacuumMinVectorNumber),
		DefaultSegmentNumber:  satInt(o.DefaultSegmentNumber),
		Disabled:              o.MaxOptimizationThreads != nil && *o.MaxOptimizationThreads == 0,
	}
	if o.MaxSegmentSize != nil {
		p.MaxSegmentBytes = satMul(*o.MaxSegmentSize, 1024)
	}
	kb := uint64(10000) // Qdrant's default indexing_threshold_kb
	if t := o.IndexingThreshold; t != nil {
		kb = *t
	}
	p.SparseIndexingBytes = satMul(kb, 1024)
	p.DeferFrom = deferFrom(cfg)
	return p
}

// indexThreads is hnsw_config.max_indexing_threads (0: one per CPU), at
// most one per CPU: a build starts that many goroutines, and Qdrant too
// takes no more indexing threads than its CPU budget allows.
func indexThreads(cfg *Config) int {
	if t := cfg.HnswConfig.MaxIndexingThreads; t > 0 {
		return min(satInt(t), runtime.GOMAXPROCS(0))
	}
	return 0
}

// Name returns the collection name.
func (c *Collection) Name() string { return c.name }

// Config returns a copy of the configuration.
func (c *Collection) Config() (*Config, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.cfg.Clone()
}

// SetConfig replaces the configuration after an update (the caller has
// persisted it). Vectors the configuration gained or lost are added to or
// dropped from the shard through its WAL (vectors.go); an error there
// leaves the shard behind the configuration until a later SetConfig or
// Open catches it up, and is returned.
func (c *Collection) SetConfig(cfg *Config) error {
	c.mu.Lock()
	c.mu.cfg = cfg
	c.mu.Unlock()
	syncErr := c.syncVectors(context.Background(), cfg)
	vindex := map[string]segment.IndexParams{}
	for n, p := range cfg.Params.Vectors.Named {
		vindex[n] = indexParams(cfg, p)
	}
	onDisk := map[string]bool{}
	for n, p := range cfg.Params.Vectors.Named {
		onDisk[n] = vectorOnDisk(p)
	}
	for _, s := range c.locals() {
		s.SetVectorIndex(vindex)
		s.SetVectorStorage(onDisk)
		s.SetSparse(sparseSpecs(cfg))
		s.SetOptimizer(optimizerParams(cfg))
	}
	c.configureStrict(cfg)
	return syncErr
}

// MultiVector reports whether vectors are configured by name (and so are
// written as an object rather than a bare list).
func (c *Collection) MultiVector() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.cfg.Params.Vectors.Multi
}

func (c *Collection) vectorParams() map[string]VectorParams {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.cfg.Params.Vectors.Named
}

func (c *Collection) sparseVectorParams() map[string]SparseVectorParams {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.cfg.Params.SparseVectors
}

// Close stops the shard workers and checkpoints.
func (c *Collection) Close() error { return c.closeShards() }

func (c *Collection) closeShards() error {
	var errs []error
	for _, s := range c.locals() {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// Drop closes the collection and removes its shards' data.
func (c *Collection) Drop() error {
	var errs []error
	for _, s := range c.locals() {
		errs = append(errs, s.Drop())
	}
	return errors.Join(errs...)
}

// UpdateStatus is Qdrant's status of an update.
type UpdateStatus string

// Update statuses.
const (
	Acknowledged UpdateStatus = "acknowledged"
	Completed    UpdateStatus = "completed"
	// WaitTimeout: applied, but the wait for the points it deferred
	// (prevent_unoptimized) ended with the request's timeout.
	WaitTimeout UpdateStatus = "wait_timeout"
)

// waitStatus is the status of an update sent with wait that the shard
// applied: completed, or wait_timeout when it was still waiting for
// deferred points.
func waitStatus(wait bool, err error) (UpdateStatus, error) {
	switch {
	case !wait:
		return Acknowledged, err
	case errors.Is(err, shard.ErrDeferredTimeout):
		return WaitTimeout, nil
	}
	return Completed, err
}

// UpdateResult answers an update.
type UpdateResult struct {
	OperationID uint64       `json:"operation_id"`
	Status      UpdateStatus `json:"status"`
}

// Update validates op against the configuration, preprocesses vectors and
// hands it to the shard.
func (c *Collection) Update(ctx context.Context, op *ops.Operation, wait bool) (UpdateResult, error) {
	if err := c.prepare(op); err != nil {
		return UpdateResult{}, err
	}
	l := c.layout()
	parts, err := c.splitUpdate(ctx, l, op)
	if err != nil {
		return UpdateResult{}, err
	}
	if ctx.Value(precheckedKey{}) != op {
		if err := c.checkUpdate(ctx, op); err != nil {
			return UpdateResult{}, err
		}
	}
	results := make([]UpdateResult, len(parts))
	errs := make([]error, len(parts))
	c.eachShard(parts, func(i int) {
		ids, err := c.updateSet(ctx, l, l.sets[i], []*ops.Operation{parts[i]}, wait)
		results[i].Status, errs[i] = waitStatus(wait, err)
		if len(ids) > 0 {
			results[i].OperationID = ids[0]
		}
	})
	res, err := combine(results, errs)
	if err != nil {
		return UpdateResult{}, err
	}
	c.observeUpdate(op)
	return res, nil
}

// checkUpdate asks the quota, then strict mode, whether op may be
// written. The quota refuses before strict mode charges the write rate
// limit.
func (c *Collection) checkUpdate(ctx context.Context, op *ops.Operation) error {
	if err := c.checkGuard(op); err != nil {
		return err
	}
	return c.guard.Update(ctx, c.facts(), []*ops.Operation{op})
}

// precheckedKey marks a context under which Update does not check its
// operation again (Precheck).
type precheckedKey struct{}

// Precheck runs on op the checks Update makes before it writes
// (validation, quota, strict mode, which charges the write rate limit)
// and returns a context under which Update skips them for op: for an
// operation committed elsewhere first (a payload index through
// consensus), whose effects must not make Update refuse it after (the
// index it creates counting against max_payload_index_count).
func (c *Collection) Precheck(ctx context.Context, op *ops.Operation) (context.Context, error) {
	if err := c.prepare(op); err != nil {
		return ctx, err
	}
	if err := c.checkUpdate(ctx, op); err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, precheckedKey{}, op), nil
}

// eachShard runs fn(i) for every shard i whose part is not nil: inline for
// one, concurrently for several (an update waits for its slowest shard,
// not for their sum).
func (c *Collection) eachShard(parts []*ops.Operation, fn func(i int)) {
	var todo []int
	for i, p := range parts {
		if p != nil {
			todo = append(todo, i)
		}
	}
	if len(todo) == 1 {
		fn(todo[0])
		return
	}
	var wg sync.WaitGroup
	for _, i := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i)
		}()
	}
	wg.Wait()
}

// UpdateBatch validates every operation before applying any (a bad one
// refuses the whole batch, as Qdrant's request validation does), then
// hands them to the shard as one batch: one WAL append, one fsync with
// wait, consecutive operation ids. They apply in order; with wait the
// first failure stops the batch and is returned (the operations before it
// stay applied, as in Qdrant).
func (c *Collection) UpdateBatch(ctx context.Context, batch []*ops.Operation, wait bool) ([]UpdateResult, error) {
	for _, op := range batch {
		if err := c.prepare(op); err != nil {
			return nil, err
		}
	}
	l := c.layout()
	splits := make([][]*ops.Operation, len(batch))
	for i, op := range batch {
		var err error
		if splits[i], err = c.splitUpdate(ctx, l, op); err != nil {
			return nil, err
		}
	}
	if err := c.checkGuard(batch...); err != nil {
		return nil, err
	}
	if err := c.guard.Update(ctx, c.facts(), batch); err != nil {
		return nil, err
	}
	out := make([]UpdateResult, len(batch))
	if len(batch) == 0 {
		return out, nil
	}
	// Each shard takes its parts of the operations as one batch, in
	// order; an operation's answer combines those of its shards.
	n := len(l.sets)
	sub := make([][]*ops.Operation, n) // by shard
	at := make([][]int, len(batch))    // at[i][shard]: the index of batch[i] in sub[shard], -1 none
	for i := range batch {
		at[i] = make([]int, n)
		for s, part := range splits[i] {
			at[i][s] = -1
			if part != nil {
				at[i][s] = len(sub[s])
				sub[s] = append(sub[s], part)
			}
		}
	}
	idsOf := make([][]uint64, n)
	statuses := make([]UpdateStatus, n)
	errs := make([]error, n)
	marks := make([]*ops.Operation, n) // non-nil: the shard has work
	for s := range sub {
		if len(sub[s]) > 0 {
			marks[s] = sub[s][0]
		}
	}
	c.eachShard(marks, func(s int) {
		var err error
		idsOf[s], err = c.updateSet(ctx, l, l.sets[s], sub[s], wait)
		statuses[s], errs[s] = waitStatus(wait, err)
	})
	results := make([]UpdateResult, n)
	for s := range results {
		if marks[s] != nil {
			results[s].Status = statuses[s]
		}
	}
	if _, err := combine(results, errs); err != nil {
		return nil, err
	}
	c.observeUpdate(batch...)
	for i := range out {
		for s, j := range at[i] {
			if j >= 0 {
				if j < len(idsOf[s]) {
					out[i].OperationID = max(out[i].OperationID, idsOf[s][j])
				}
				if statusPriority(statuses[s]) > statusPriority(out[i].Status) {
					out[i].Status = statuses[s]
				}
			}
		}
	}
	return out, nil
}

// prepare checks the operation's shape, vector names and sizes and the
// schema of an index, and normalises cosine vectors.
func (c *Collection) prepare(op *ops.Operation) error {
	if err := op.Validate(); err != nil {
		return validationErr(err)
	}
	params := c.vectorParams()
	sparseParams := c.sparseVectorParams()
	check := func(vecs point.Vectors) (point.Vectors, error) {
		out := make(point.Vectors, len(vecs))
		for name, v := range vecs {
			p, ok := params[name]
			if !ok {
				if _, sparse := sparseParams[name]; sparse {
					return nil, errWrongSparse()
				}
				return nil, errVectorName(name)
			}
			if err := checkDim(p, v); err != nil {
				return nil, err
			}
			if err := point.CheckFinite(v); err != nil {
				return nil, point.Errorf(point.KindBadInput, "%v", err)
			}
			out[name] = preprocess(p, v)
		}
		return out, nil
	}
	checkSparse := func(vecs point.SparseVectors) (point.SparseVectors, error) {
		if vecs == nil {
			return nil, nil
		}
		out := make(point.SparseVectors, len(vecs))
		for name, v := range vecs {
			if _, ok := sparseParams[name]; !ok {
				if _, dense := params[name]; dense {
					return nil, errWrongSparse()
				}
				return nil, errVectorName(name)
			}
			var err error
			if out[name], err = checkSparseVector(name, v); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	var err error
	for i := range op.Points {
		if op.Points[i].Vectors, err = check(op.Points[i].Vectors); err != nil {
			return err
		}
		if op.Points[i].Sparse, err = checkSparse(op.Points[i].Sparse); err != nil {
			return err
		}
	}
	for i := range op.Vectors {
		if op.Vectors[i].Vectors, err = check(op.Vectors[i].Vectors); err != nil {
			return err
		}
		if op.Vectors[i].Sparse, err = checkSparse(op.Vectors[i].Sparse); err != nil {
			return err
		}
	}
	if op.Kind == ops.CreateIndex {
		if _, err := shard.IndexSchema(op.Schema); err != nil {
			return schemaErr(err)
		}
	}
	if op.Kind == ops.DeleteVectors {
		for _, n := range op.Keys {
			if _, ok := params[n]; !ok {
				if _, ok := sparseParams[n]; !ok {
					return errVectorName(n)
				}
			}
		}
	}
	return nil
}

// validationErr is the error of an operation that fails ops' Validate,
// as the REST API reports a schema that does not decode (400) or breaks a
// rule (422); any other shape is bad input.
func validationErr(err error) error {
	var fe *ops.FieldError
	if errors.As(err, &fe) {
		return &ValidationError{Fields: []string{"field_schema." + fe.Error()}}
	}
	var se *ops.SchemaError
	if errors.As(err, &se) {
		return &FormatError{Msg: se.Error()}
	}
	return point.Errorf(point.KindBadInput, "%v", err)
}

// schemaErr is the error of a schema that the payload index refuses (a
// language name it does not know), reported as the vocabulary's own.
func schemaErr(err error) error {
	var ve *payload.SchemaValidationError
	if errors.As(err, &ve) {
		return &ValidationError{Fields: []string{"field_schema." + ve.Error()}}
	}
	return &FormatError{Msg: err.Error()}
}

func errVectorName(name string) error {
	return point.Errorf(point.KindBadInput, "Not existing vector name error: %s", name)
}

func errDim(want uint64, got int) error {
	return point.Errorf(point.KindBadInput, "Vector dimension error: expected dim: %d, got %d", want, got)
}

// checkDim checks a vector's length: Size, or for a multivector its
// sub-vectors flattened, a positive multiple of Size. (The REST API checks
// each sub-vector of a nested multivector before flattening it, with
// Qdrant's texts.)
func checkDim(p VectorParams, v []float32) error {
	if segment.FitsColumn(len(v), int(p.Size), p.IsMulti()) {
		return nil
	}
	return errDim(p.Size, len(v))
}

// preprocess returns a query vector as the named column compares it.
func (c *Collection) preprocess(name string, v []float32) []float32 {
	return preprocess(c.vectorParams()[name], v)
}

// Info is Qdrant's CollectionInfo.
type Info struct {
	Status              string           `json:"status"`
	OptimizerStatus     any              `json:"optimizer_status"` // "ok" or {"error": text}
	Warnings            []Warning        `json:"warnings,omitempty"`
	IndexedVectorsCount uint64           `json:"indexed_vectors_count"`
	PointsCount         uint64           `json:"points_count"` // the points reads see (deferred ones are not)
	SegmentsCount       uint64           `json:"segments_count"`
	Config              *Config          `json:"config"`
	PayloadSchema       map[string]any   `json:"payload_schema"`
	UpdateQueue         *UpdateQueueInfo `json:"update_queue,omitempty"`
}

// Info reports status and counts.
func (c *Collection) Info() (*Info, error) {
	cfg, err := c.Config()
	if err != nil {
		return nil, err
	}
	var n, indexed int
	schema := map[string]any{}
	var segments int
	points := map[string]int{} // per indexed key, summed over shards
	schemas := map[string]payload.Schema{}
	c.viewAll(func(s *shard.Reader) {
		n += s.Len()
		indexed += s.IndexedVectors()
		segments += len(s.Segments())
		for k, ix := range s.Indexes() {
			points[k] += ix.Points
			schemas[k] = ix.Schema
		}
	})
	for k, sc := range schemas {
		schema[k] = sc.Info(points[k])
	}
	c.schemaInfo(schema)
	// Qdrant's colours: yellow while optimizing (or about to), grey when
	// an optimization is due but cannot run (disabled or failed); the
	// collection shows its worst shard.
	status := "green"
	var optStatus any = "ok"
	queue := &UpdateQueueInfo{}
	var deferred uint64
	for _, sh := range c.locals() {
		opt := sh.Optimizer()
		st := "green"
		switch {
		case opt.Running:
			st = "yellow"
		case opt.Pending && (opt.Disabled || opt.Error != ""):
			st = "grey"
		case opt.Pending:
			st = "yellow"
		}
		if statusRank(st) > statusRank(status) {
			status = st
		}
		if opt.Error != "" && optStatus == "ok" {
			optStatus = map[string]string{"error": opt.Error}
		}
		queue.Length += uint64(sh.QueueLength())
		deferred += uint64(sh.DeferredPoints())
	}
	if p := cfg.OptimizerConfig.PreventUnoptimized; p != nil && *p {
		queue.DeferredPoints = &deferred
	}
	if all, ok := c.clusterLen(); ok {
		n = all
	}
	return &Info{
		Status:              status,
		OptimizerStatus:     optStatus,
		Warnings:            cfg.Warnings(),
		IndexedVectorsCount: uint64(indexed),
		PointsCount:         uint64(n),
		SegmentsCount:       uint64(segments),
		Config:              cfg,
		PayloadSchema:       schema,
		UpdateQueue:         queue,
	}, nil
}

// statusRank orders the colours of a collection's status, the worse the
// higher: a collection is as green as its least green shard.
func statusRank(s string) int {
	switch s {
	case "yellow":
		return 1
	case "grey":
		return 2
	case "red":
		return 3
	}
	return 0
}
