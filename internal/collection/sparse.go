package collection

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/shoaldb/shoal/internal/index/sparse"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/shard"
)

// SparseVectorParams configures one sparse vector (Qdrant's
// SparseVectorParams); absent fields are left out when echoed, as Qdrant
// does.
type SparseVectorParams struct {
	Index    *SparseIndexParams `json:"index,omitempty"`
	Modifier *Modifier          `json:"modifier,omitempty"`
}

// SparseIndexParams configures a sparse vector's inverted index.
type SparseIndexParams struct {
	// FullScanThreshold: a filtered search expected to match fewer points
	// scores them one by one (in vectors, not KB; Qdrant's default 5000).
	FullScanThreshold *uint64 `json:"full_scan_threshold,omitempty"`
	// OnDisk (deprecated by Memory) keeps a sealed segment's index in a
	// mapped file rather than on the heap.
	OnDisk *bool `json:"on_disk,omitempty"`
	// Memory overrides OnDisk: cold and cached map the file, pinned keeps
	// the index on the heap.
	Memory   *Memory         `json:"memory,omitempty"`
	Datatype *SparseDatatype `json:"datatype,omitempty"`
}

// DefaultSparseFullScanThreshold is Qdrant's
// DEFAULT_SPARSE_FULL_SCAN_THRESHOLD.
const DefaultSparseFullScanThreshold = 5000

// Modifier is a sparse vector's value modifier: none, or idf (the query's
// weights are multiplied by each dimension's inverse document frequency
// over the collection).
type Modifier string

// The modifiers.
const (
	ModifierNone Modifier = "none"
	ModifierIDF  Modifier = "idf"
)

// UnmarshalJSON accepts Qdrant's names only, with serde's text otherwise.
func (m *Modifier) UnmarshalJSON(b []byte) error {
	s, err := enumString(b)
	if err != nil {
		return err
	}
	switch Modifier(s) {
	case ModifierNone, ModifierIDF:
		*m = Modifier(s)
		return nil
	}
	return fmt.Errorf("unknown variant `%s`, expected `none` or `idf`", s)
}

// SparseDatatype is the datatype of a sparse index's weights (Qdrant's
// Datatype enum).
type SparseDatatype string

// UnmarshalJSON accepts Qdrant's names only.
func (d *SparseDatatype) UnmarshalJSON(b []byte) error {
	s, err := enumString(b)
	if err != nil {
		return err
	}
	if _, err := sparse.ParseDatatype(s); err != nil || s == "" {
		return fmt.Errorf("unknown variant `%s`, expected one of `float32`, `uint8`, `float16`, `turbo4`", s)
	}
	*d = SparseDatatype(s)
	return nil
}

func enumString(b []byte) (string, error) {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", fmt.Errorf("invalid type: %s, expected a string", b)
	}
	return s, nil
}

// onDisk is whether a sealed segment maps the index file: memory decides
// when set (cold, cached), else on_disk (Qdrant's Memory::resolve).
func (p *SparseIndexParams) onDisk() bool {
	switch {
	case p == nil:
		return false
	case p.Memory != nil:
		return *p.Memory != MemoryPinned
	}
	return p.OnDisk != nil && *p.OnDisk
}

// update sets the fields d sets (Qdrant's update_from_other).
func (p *SparseIndexParams) update(d *SparseIndexParams) {
	setPtr(&p.FullScanThreshold, d.FullScanThreshold)
	setPtr(&p.OnDisk, d.OnDisk)
	setPtr(&p.Memory, d.Memory)
	setPtr(&p.Datatype, d.Datatype)
}

// spec is how the segments keep the sparse vector's index.
func (p SparseVectorParams) spec() segment.SparseSpec {
	sp := segment.SparseSpec{OnDisk: p.Index.onDisk()}
	if p.Index != nil && p.Index.Datatype != nil {
		sp.Datatype, _ = sparse.ParseDatatype(string(*p.Index.Datatype)) // validated when decoded
	}
	return sp
}

// fullScanThreshold is index.full_scan_threshold or Qdrant's default.
func (p SparseVectorParams) fullScanThreshold() int {
	if p.Index != nil && p.Index.FullScanThreshold != nil {
		return satInt(*p.Index.FullScanThreshold)
	}
	return DefaultSparseFullScanThreshold
}

func (p SparseVectorParams) idf() bool { return p.Modifier != nil && *p.Modifier == ModifierIDF }

// sparseSpecs are the segments' settings of every sparse vector.
func sparseSpecs(cfg *Config) map[string]segment.SparseSpec {
	out := make(map[string]segment.SparseSpec, len(cfg.Params.SparseVectors))
	for n, p := range cfg.Params.SparseVectors {
		out[n] = p.spec()
	}
	return out
}

// checkSparseNames refuses an empty sparse vector name and one that a
// dense vector has too, with Qdrant's texts.
func checkSparseNames(vc *VectorsConfig, sparse map[string]SparseVectorParams) error {
	if _, ok := sparse[""]; ok {
		return point.Errorf(point.KindBadInput, "Sparse vector name cannot be empty")
	}
	if vc == nil {
		return nil
	}
	for _, name := range vc.Names() {
		if _, ok := sparse[name]; ok {
			return point.Errorf(point.KindBadInput, "Dense and sparse vector names must be unique - duplicate found with '%s'", name)
		}
	}
	return nil
}

// errWrongSparse is Qdrant's error for a sparse vector given where a dense
// one is configured, or the reverse.
func errWrongSparse() error {
	return point.Errorf(point.KindBadInput, "Conversion between sparse and regular vectors failed")
}

// SparseValidationError describes the rules a sparse vector breaks in
// Qdrant's validation terms, at a field path the API chooses.
func SparseValidationError(path string, errs []*point.SparseFieldError) error {
	fields := make([]string, len(errs))
	for i, e := range errs {
		fields[i] = fmt.Sprintf("%s.%s: Validation error: %s [{}]", path, e.Field, e.Message)
	}
	return &ValidationError{Fields: fields}
}

// checkSparseVector validates a sparse vector that reached the collection
// (an API validates them first, with its own field paths) and returns it
// sorted by index.
func checkSparseVector(name string, v point.SparseVector) (point.SparseVector, error) {
	if errs := v.Validate(); len(errs) > 0 {
		return point.SparseVector{}, SparseValidationError("vector."+name, errs)
	}
	if err := v.CheckFinite(); err != nil {
		return point.SparseVector{}, point.Errorf(point.KindBadInput, "%v", err)
	}
	return v.Sorted(), nil
}

// idfWeights multiplies the query's weights by Qdrant's inverse document
// frequency of each dimension, ln((n - df + 0.5) / (df + 0.5) + 1), where n
// is the number of points with a vector under this name and df the number
// of those having the dimension. q is modified: the caller owns it.
func idfWeights(q point.SparseVector, n int, df []int) {
	for i := range q.Values {
		q.Values[i] *= IDF(n, df[i])
	}
}

// IDF is Qdrant's fancy_idf: ln((n - df + 0.5) / (df + 0.5) + 1), the
// argument computed in float32 as Qdrant does, its logarithm rounded once
// to float32 (Qdrant's f32::ln, within an ulp of it).
func IDF(n, df int) float32 {
	fn, fdf := float32(n), float32(df)
	x := (fn-fdf+0.5)/(fdf+0.5) + 1
	return float32(math.Log(float64(x)))
}

// isSparse reports whether name is a configured sparse vector, with its
// params.
func (c *Collection) sparseParams(name string) (SparseVectorParams, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.mu.cfg.Params.SparseVectors[name]
	return p, ok
}

// SparseNames lists the sparse vector names, sorted.
func (c *Collection) SparseNames() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, 0, len(c.mu.cfg.Params.SparseVectors))
	for n := range c.mu.cfg.Params.SparseVectors {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// searchSparse is Search on a sparse vector: by a sparse query, or by the
// stored sparse vector of a point (excluded from the results), scored by
// the dot product over shared indices, the query's weights first
// multiplied by their idf when the vector's modifier is idf. Statistics
// and search run under one view of the shard, so they see the same points.
func (c *Collection) searchSparse(ctx context.Context, req ops.SearchRequest, p SparseVectorParams) ([]ScoredPoint, error) {
	if err := c.checkVectorNames(req.WithVector); err != nil {
		return nil, err
	}
	if req.Vector != nil {
		return nil, errWrongSparse()
	}
	var q point.SparseVector
	var exclude map[point.ID]struct{}
	switch {
	case req.QueryID != nil:
		rec, ok, err := c.storedPoint(ctx, *req.QueryID, req.Using)
		if err != nil {
			return nil, err
		}
		if q, ok = rec.Sparse[req.Using]; !ok {
			return nil, point.PointNotFound(*req.QueryID)
		}
		exclude = map[point.ID]struct{}{*req.QueryID: {}}
	case req.Sparse != nil:
		var err error
		if q, err = checkSparseVector(req.Using, *req.Sparse); err != nil {
			return nil, err
		}
	default:
		return nil, point.Errorf(point.KindBadInput, "Query vector is not specified")
	}
	want := req.Limit
	if req.Offset > 0 {
		want = min(req.Limit, math.MaxInt-req.Offset) + req.Offset
	}
	// Each shard weighs the query by its own idf statistics, as each of
	// Qdrant's shards builds its query context from its own segments.
	parts, err := fanOut(ctx, c, "search",
		func(_ *ReplicaSet, sh *shard.Shard) ([]ScoredPoint, error) {
			return searchSparseLocal(ctx, sh, req, p, q, exclude, want)
		},
		func(rs *ReplicaSet, r Remote) ([]ScoredPoint, error) {
			sub := req
			sub.Sparse = &q
			return remoteSearch(ctx, r, c.name, rs.id, sub, req.QueryID, want)
		},
		resolveHits(higher, want))
	if err != nil {
		return nil, err
	}
	return mergeHits(parts, higher, req.Offset, req.Limit), nil
}

// searchSparseLocal is a sparse search on one local shard: statistics and
// search under one view, so that they see the same points.
func searchSparseLocal(ctx context.Context, sh *shard.Shard, req ops.SearchRequest, p SparseVectorParams, q point.SparseVector, exclude map[point.ID]struct{}, want int) ([]ScoredPoint, error) {
	var out []ScoredPoint
	var err error
	sh.View(func(s *shard.Reader) {
		if p.idf() {
			q = q.Clone() // each shard weighs its own copy
			n, df := s.SparseStats(req.Using, q.Indices)
			idfWeights(q, n, df)
		}
		var hits []shard.Hit
		hits, err = s.SearchSparse(ctx, segment.SparseSearchParams{
			Vector: req.Using, Query: q, Filter: req.Filter, Limit: want, Threshold: req.ScoreThreshold,
			Exclude: exclude, Exact: req.Params.Exact, FullScanThreshold: p.fullScanThreshold(),
		}, req.WithVector.Selection())
		if err == nil {
			out = scored(hits, req.WithPayload)
		}
	})
	return out, err
}
