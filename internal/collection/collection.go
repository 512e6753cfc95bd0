package collection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
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

	mu struct {
		sync.RWMutex
		cfg *Config
	}
	shard *shard.Shard // one local shard until the cluster issues add more
	guard *strict.Guard
	obs   observer                    // see Observe
	quota atomic.Pointer[UpdateGuard] // see GuardUpdates
}

// Open opens (or creates) the collection's data under dir on fsys (nil:
// vfs.Default) with cfg and starts its shard's update worker. Close stops
// it.
func Open(fsys vfs.FS, dir, name string, cfg *Config, log *slog.Logger, opts ...Option) (*Collection, error) {
	if log == nil {
		log = slog.Default()
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	specs := map[string]segment.VectorSpec{}
	for n, p := range cfg.Params.Vectors.Named {
		specs[n] = vectorSpec(p)
	}
	flush := time.Duration(satMul(cfg.OptimizerConfig.FlushIntervalSec, int64(time.Second)))
	vindex := map[string]segment.IndexParams{}
	for n, p := range cfg.Params.Vectors.Named {
		vindex[n] = indexParams(cfg, p)
	}
	sh, err := shard.Open(filepath.Join(dir, "shards", "0"), shard.Options{
		Vectors:        specs,
		Sparse:         sparseSpecs(cfg),
		WALSegmentSize: satMul(cfg.WalConfig.WalCapacityMB, 1<<20),
		WALSegAhead:    satInt(cfg.WalConfig.WalSegmentsAhead),
		CheckpointWAL:  satMul(cfg.WalConfig.WalCapacityMB, 1<<20),
		FlushInterval:  flush,
		Logger:         log.With("collection", name),
		VectorIndex:    vindex,
		IndexThreads:   indexThreads(cfg),
		Optimizer:      optimizerParams(cfg),
		FS:             fsys,
	})
	if err != nil {
		return nil, fmt.Errorf("open collection %q: %w", name, err)
	}
	sh.Start()
	c := &Collection{name: name, dir: dir, log: log, shard: sh, guard: strict.NewGuard(o.now, o.memory)}
	c.mu.cfg = cfg
	c.configureStrict(cfg)
	// A configuration saved before a crash cut its vectors' change short
	// (vectors.go): the shard catches up before anything else reaches it.
	if err := c.syncVectors(context.Background(), cfg); err != nil {
		sh.Close()
		return nil, fmt.Errorf("open collection %q: bring its vectors in line with its configuration: %w", name, err)
	}
	return c, nil
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
	c.shard.SetVectorIndex(vindex)
	onDisk := map[string]bool{}
	for n, p := range cfg.Params.Vectors.Named {
		onDisk[n] = vectorOnDisk(p)
	}
	c.shard.SetVectorStorage(onDisk)
	c.shard.SetSparse(sparseSpecs(cfg))
	c.shard.SetOptimizer(optimizerParams(cfg))
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

// Close stops the shard worker and checkpoints.
func (c *Collection) Close() error { return c.shard.Close() }

// Drop closes the collection and removes its shard data.
func (c *Collection) Drop() error { return c.shard.Drop() }

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
	// The quota refuses before strict mode charges the write rate limit.
	if err := c.checkGuard(op); err != nil {
		return UpdateResult{}, err
	}
	if err := c.guard.Update(ctx, c.facts(), []*ops.Operation{op}); err != nil {
		return UpdateResult{}, err
	}
	id, err := c.shard.Update(ctx, op, wait)
	st, err := waitStatus(wait, err)
	if err != nil {
		return UpdateResult{}, err
	}
	c.observeUpdate(op)
	return UpdateResult{OperationID: id, Status: st}, nil
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
	first, err := c.shard.UpdateBatch(ctx, batch, wait)
	st, err := waitStatus(wait, err)
	if err != nil {
		return nil, err
	}
	c.observeUpdate(batch...)
	for i := range out {
		out[i] = UpdateResult{OperationID: first + uint64(i), Status: st}
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
	c.shard.View(func(s *shard.Reader) {
		n = s.Len()
		indexed = s.IndexedVectors()
		segments = len(s.Segments())
		for k, ix := range s.Indexes() {
			schema[k] = ix.Schema.Info(ix.Points)
		}
	})
	// Qdrant's colours: yellow while optimizing (or about to), grey when
	// an optimization is due but cannot run (disabled or failed).
	opt := c.shard.Optimizer()
	status := "green"
	switch {
	case opt.Running:
		status = "yellow"
	case opt.Pending && (opt.Disabled || opt.Error != ""):
		status = "grey"
	case opt.Pending:
		status = "yellow"
	}
	var optStatus any = "ok"
	if opt.Error != "" {
		optStatus = map[string]string{"error": opt.Error}
	}
	queue := &UpdateQueueInfo{Length: uint64(c.shard.QueueLength())}
	if p := cfg.OptimizerConfig.PreventUnoptimized; p != nil && *p {
		d := uint64(c.shard.DeferredPoints())
		queue.DeferredPoints = &d
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
