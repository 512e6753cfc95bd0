package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

type countIn struct {
	Filter   json.RawMessage `json:"filter"`
	Exact    *bool           `json:"exact"`
	ShardKey json.RawMessage `json:"shard_key"`
}

func (s *Server) runCount(ctx context.Context, c *collection.Collection, in *countIn) (map[string]int, error) {
	f, err := parseFilter(in.Filter)
	if err != nil {
		return nil, err
	}
	n, err := c.Count(ctx, ops.CountRequest{Filter: f, Exact: in.Exact == nil || *in.Exact})
	if err != nil {
		return nil, during("count", err)
	}
	return map[string]int{"count": n}, nil
}

type scrollIn struct {
	Offset      *point.ID       `json:"offset"`
	Limit       usize           `json:"limit"`
	Filter      json.RawMessage `json:"filter"`
	WithPayload withPayload     `json:"with_payload"`
	WithVector  withVector      `json:"with_vector"`
	WithVectors withVector      `json:"with_vectors"` // alias, as in Qdrant
	OrderBy     orderByIn       `json:"order_by"`
	ShardKey    json.RawMessage `json:"shard_key"`
}

type scrollOut struct {
	Points         []recordOut `json:"points"`
	NextPageOffset *point.ID   `json:"next_page_offset"`
}

func (s *Server) runScroll(ctx context.Context, c *collection.Collection, in *scrollIn) (*scrollOut, error) {
	limit, err := positive("limit", in.Limit, 10)
	if err != nil {
		return nil, err
	}
	f, err := parseFilter(in.Filter)
	if err != nil {
		return nil, err
	}
	wp := in.WithPayload.sel
	if !in.WithPayload.set {
		wp = ops.PayloadSelector{Enable: true} // scroll returns payload by default
	}
	req := ops.ScrollRequest{Filter: f, Offset: in.Offset, Limit: limit, WithPayload: wp, WithVector: in.WithVector.or(in.WithVectors)}
	if in.OrderBy.set {
		if in.Offset != nil {
			return nil, badRequest("Wrong input: Cannot use an `offset` when using `order_by`. The alternative for paging is to use `order_by.start_from` and a filter to exclude the IDs that you've already seen for the `order_by.start_from` value")
		}
		if req.OrderBy, err = in.OrderBy.orderBy(); err != nil {
			return nil, err
		}
	}
	recs, next, err := c.Scroll(ctx, req)
	if err != nil {
		op := "scroll_by_id"
		if req.OrderBy != nil {
			op = "scroll_by_field"
		}
		return nil, during(op, err)
	}
	return &scrollOut{Points: recordsOut(recs, multiVector(c)), NextPageOffset: next}, nil
}

// queryIn is Qdrant's QueryRequest, of which this version serves nearest
// search by vector or by point id, and a plain id-ordered listing when
// query is absent.
type queryIn struct {
	Query          json.RawMessage `json:"query"`
	Prefetch       json.RawMessage `json:"prefetch"`
	Using          *string         `json:"using"`
	Filter         json.RawMessage `json:"filter"`
	Params         json.RawMessage `json:"params"`
	ScoreThreshold *float32        `json:"score_threshold"`
	Limit          usize           `json:"limit"`
	Offset         usize           `json:"offset"`
	WithVector     withVector      `json:"with_vector"`
	WithVectors    withVector      `json:"with_vectors"` // alias, as in Qdrant
	WithPayload    withPayload     `json:"with_payload"`
	LookupFrom     json.RawMessage `json:"lookup_from"`
	ShardKey       json.RawMessage `json:"shard_key"`

	shape queryShape // a multivector query's, set by request (multi.go)
}

// parseQuery reads the supported forms of `query`: a dense vector or a
// multivector (flattened; its shape is returned), a sparse vector
// ({"indices", "values"}), a point id, or {"nearest": one of those}. A
// sparse vector is validated with Qdrant's texts at path.
func parseQuery(raw json.RawMessage, path string) (*ops.NearestQuery, queryShape, error) {
	raw = bytes.TrimSpace(raw)
	if !isSet(raw) {
		return nil, queryShape{}, nil
	}
	if raw[0] == '{' {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, queryShape{}, formatError(err)
		}
		if nearest, ok := obj["nearest"]; ok && len(obj) <= 2 {
			if _, hasMMR := obj["mmr"]; hasMMR {
				return nil, queryShape{}, badRequest("Bad request: mmr is not supported by this version of Shoal")
			}
			return parseQuery(nearest, path+".nearest")
		}
		if isSparseObject(raw) {
			v, err := sparseVector(raw)
			if err != nil {
				return nil, queryShape{}, formatError(fmt.Errorf("query: %w", err))
			}
			if err := checkOneSparse(path, &v); err != nil {
				return nil, queryShape{}, err
			}
			return &ops.NearestQuery{Sparse: &v}, queryShape{}, nil
		}
		for k := range obj {
			return nil, queryShape{}, badRequest("Bad request: query type `%s` is not supported by this version of Shoal", k)
		}
		return nil, queryShape{}, formatError(errorString("empty query object"))
	}
	if raw[0] == '[' {
		vec, shape, err := nearestVector(raw, path)
		if err != nil {
			return nil, queryShape{}, formatError(err)
		}
		return &ops.NearestQuery{Vector: vec}, shape, nil
	}
	var id point.ID
	if err := json.Unmarshal(raw, &id); err != nil {
		return nil, queryShape{}, formatError(errorString("query: data did not match any variant of untagged enum QueryInterface"))
	}
	return &ops.NearestQuery{ID: &id}, queryShape{}, nil
}

type queryOut struct {
	Points []scoredOut `json:"points"`
}

func (s *Server) runQuery(ctx context.Context, c *collection.Collection, in *queryIn) (*queryOut, error) {
	req, err := in.request()
	if err != nil {
		return nil, err
	}
	if err := in.checkShape(c, req); err != nil {
		return nil, err
	}
	hits, err := c.Query(ctx, req)
	if err != nil {
		return nil, during(queryOp(req), err)
	}
	return &queryOut{Points: scoredPointsOut(hits, multiVector(c))}, nil
}

// queryOp is the name of a query in Qdrant's timeout message.
func queryOp(req ops.QueryRequest) string {
	if req.Nearest == nil {
		return "Query scroll"
	}
	return "Search"
}

// request reads a query body into the vocabulary.
func (in *queryIn) request() (ops.QueryRequest, error) {
	if isSet(in.Prefetch) && string(bytes.TrimSpace(in.Prefetch)) != "[]" {
		return ops.QueryRequest{}, badRequest("Bad request: prefetch is not supported by this version of Shoal")
	}
	if isSet(in.LookupFrom) {
		return ops.QueryRequest{}, badRequest("Bad request: lookup_from is not supported by this version of Shoal")
	}
	target, shape, err := parseQuery(in.Query, "internal.query")
	if err != nil {
		return ops.QueryRequest{}, err
	}
	in.shape = shape
	limit, offset, err := limitOffset(in.Limit, in.Offset)
	if err != nil {
		return ops.QueryRequest{}, err
	}
	f, err := parseFilter(in.Filter)
	if err != nil {
		return ops.QueryRequest{}, err
	}
	params, err := parseSearchParams(in.Params)
	if err != nil {
		return ops.QueryRequest{}, err
	}
	using := point.DefaultVector
	if in.Using != nil {
		using = *in.Using
	}
	return ops.QueryRequest{
		Nearest: target, Using: using, Filter: f, Params: params,
		Limit: limit, Offset: offset, ScoreThreshold: in.ScoreThreshold,
		WithPayload: in.WithPayload.sel, WithVector: in.WithVector.or(in.WithVectors),
	}, nil
}

// limitOffset reads limit (default 10, at least 1) and offset (default 0).
// Both may be huge: callers bound what they allocate by what exists.
func limitOffset(l, o usize) (int, int, error) {
	limit, err := positive("limit", l, 10)
	if err != nil {
		return 0, 0, err
	}
	return limit, o.or(0), nil
}

// positive reads a size that Qdrant validates with range(min = 1): 0 is a
// validation error (422), an absent value is def.
func positive(field string, u usize, def int) (int, error) {
	if u.set && u.n == 0 {
		return 0, validationError(field + ": value 0 invalid, must be 1 or larger")
	}
	return u.or(def), nil
}

// searchIn is the legacy SearchRequest (still routed by Qdrant and used by
// its clients): `vector` is a dense list or {"name", "vector"}.
type searchIn struct {
	Vector         json.RawMessage `json:"vector"`
	Filter         json.RawMessage `json:"filter"`
	Params         json.RawMessage `json:"params"`
	Limit          usize           `json:"limit"`
	Top            usize           `json:"top"`
	Offset         usize           `json:"offset"`
	WithPayload    withPayload     `json:"with_payload"`
	WithVector     withVector      `json:"with_vector"`
	WithVectors    withVector      `json:"with_vectors"` // alias, as in Qdrant
	ScoreThreshold *float32        `json:"score_threshold"`
	ShardKey       json.RawMessage `json:"shard_key"`

	shape queryShape // a multivector query's, set by request (multi.go)
}

func (s *Server) runSearch(ctx context.Context, c *collection.Collection, in *searchIn) (scoredList, error) {
	req, err := in.request()
	if err != nil {
		return nil, err
	}
	if err := in.shape.check(c, req.Using, req.Vector); err != nil {
		return nil, err
	}
	hits, err := c.Search(ctx, req)
	if err != nil {
		return nil, during("Search", err)
	}
	return scoredList(scoredPointsOut(hits, multiVector(c))), nil
}

// request reads a legacy search body into the vocabulary.
func (in *searchIn) request() (ops.SearchRequest, error) {
	raw := bytes.TrimSpace(in.Vector)
	if !isSet(raw) {
		return ops.SearchRequest{}, formatError(errorString("missing field `vector`"))
	}
	using := point.DefaultVector
	var vec []float32
	var sparse *point.SparseVector
	var err error
	if raw[0] == '{' {
		var named struct {
			Name   string          `json:"name"`
			Vector json.RawMessage `json:"vector"`
		}
		if err := json.Unmarshal(raw, &named); err != nil || named.Vector == nil {
			return ops.SearchRequest{}, formatError(errorString("vector: data did not match any variant of untagged enum NamedVectorStruct"))
		}
		using = named.Name
		raw = named.Vector
	}
	// NamedSparseVector: {"name", "vector": {"indices", "values"}}; a
	// multivector, flattened.
	if isNested(raw) {
		if vec, in.shape, err = nearestVector(raw, "vector"); err != nil {
			return ops.SearchRequest{}, formatError(err)
		}
	} else if vec, sparse, err = vectorValue(raw); err != nil {
		return ops.SearchRequest{}, formatError(err)
	}
	if err := checkOneSparse("vector.vector", sparse); err != nil {
		return ops.SearchRequest{}, err
	}
	l := in.Limit
	if !l.set {
		l = in.Top
	}
	if !l.set {
		return ops.SearchRequest{}, formatError(errorString("missing field `limit`"))
	}
	limit, offset, err := limitOffset(l, in.Offset)
	if err != nil {
		return ops.SearchRequest{}, err
	}
	f, err := parseFilter(in.Filter)
	if err != nil {
		return ops.SearchRequest{}, err
	}
	params, err := parseSearchParams(in.Params)
	if err != nil {
		return ops.SearchRequest{}, err
	}
	return ops.SearchRequest{
		Params: params,
		Using:  using, Vector: vec, Sparse: sparse, Filter: f, Limit: limit, Offset: offset,
		ScoreThreshold: in.ScoreThreshold, WithPayload: in.WithPayload.sel, WithVector: in.WithVector.or(in.WithVectors),
	}, nil
}

// batchOf is the body of the batch routes.
type batchOf[In any] struct {
	Searches *[]In `json:"searches"`
}

// The batch routes read every request of the batch first (a malformed one
// fails the batch before anything runs), then hand them to the collection
// as one request: strict mode checks the batch as a whole and charges its
// read cost at once, as Qdrant's batch routes do. The requests run in
// order and the first error fails the batch, as in Qdrant; the batch also
// fails once the results of its requests pass its budget (see
// maxBatchResults). Its requests share the batch's context, and so its
// ?timeout=.

// readBatch reads the requests of a batch body and the shards each
// selects.
func readBatch[In any, R any](in *batchOf[In], read func(*In) (R, error)) ([]R, []shardSelection, error) {
	if in.Searches == nil {
		return nil, nil, formatError(errorString("missing field `searches`"))
	}
	reqs := make([]R, len(*in.Searches))
	sels := make([]shardSelection, len(reqs))
	for i := range *in.Searches {
		var err error
		if sels[i], err = selectionOf(&(*in.Searches)[i]); err != nil {
			return nil, nil, err
		}
		if reqs[i], err = read(&(*in.Searches)[i]); err != nil {
			return nil, nil, err
		}
	}
	return reqs, sels, nil
}

// batchRuns runs a batch's requests, routed by their shard keys: each run
// of consecutive requests that select the same shards as one batch (the
// whole batch when they all do), its results reported by their index in
// the batch.
func batchRuns[R any](ctx context.Context, reqs []R, sels []shardSelection,
	run func(ctx context.Context, reqs []R, each func(i int, hits []collection.ScoredPoint) error) error,
	each func(i int, hits []collection.ScoredPoint) error) error {
	if len(reqs) == 0 {
		return run(ctx, reqs, each)
	}
	for _, rn := range runsOf(sels) {
		from := rn[0]
		err := run(withSelection(ctx, sels[from]), reqs[from:rn[1]], func(i int, hits []collection.ScoredPoint) error {
			return each(from+i, hits)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) runSearchBatch(ctx context.Context, c *collection.Collection, in *batchOf[searchIn]) ([]scoredList, error) {
	reqs, sels, err := readBatch(in, (*searchIn).request)
	if err != nil {
		return nil, err
	}
	for i, r := range reqs {
		if err := (*in.Searches)[i].shape.check(c, r.Using, r.Vector); err != nil {
			return nil, err
		}
	}
	budget := newBatchBudget(c.Len())
	mv := multiVector(c)
	outs := make([]scoredList, len(reqs))
	err = batchRuns(ctx, reqs, sels, c.SearchBatch, func(i int, hits []collection.ScoredPoint) error {
		outs[i] = scoredPointsOut(hits, mv)
		return budget.spend(len(outs[i]))
	})
	if err != nil {
		return nil, during("Search", err)
	}
	return outs, nil
}

func (s *Server) runQueryBatch(ctx context.Context, c *collection.Collection, in *batchOf[queryIn]) ([]*queryOut, error) {
	reqs, sels, err := readBatch(in, (*queryIn).request)
	if err != nil {
		return nil, err
	}
	for i, r := range reqs {
		if err := (*in.Searches)[i].checkShape(c, r); err != nil {
			return nil, err
		}
	}
	budget := newBatchBudget(c.Len())
	mv := multiVector(c)
	outs := make([]*queryOut, len(reqs))
	failed := 0 // the query under way when the batch failed
	err = batchRuns(ctx, reqs, sels, c.QueryBatch, func(i int, hits []collection.ScoredPoint) error {
		failed = i + 1
		outs[i] = &queryOut{Points: scoredPointsOut(hits, mv)}
		return budget.spend(len(outs[i].Points))
	})
	if err != nil {
		op := "Search"
		if failed < len(reqs) {
			op = queryOp(reqs[failed])
		}
		return nil, during(op, err)
	}
	return outs, nil
}

// scoredList is the answer of a legacy search.
type scoredList []scoredOut

// read serves a read route: find the collection, decode the body, run
// under the request's context bounded by ?timeout= (see readContext) and
// routed by ?consistency= and the body's shard_key (readRouting). A read
// its deadline stopped answers Qdrant's 408 (readTimeout).
func read[In, Out any](s *Server, run func(context.Context, *collection.Collection, *In) (Out, error)) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		c, err := s.node.Collection(r.PathValue("name"))
		var in In
		if err == nil {
			err = s.decodeBody(w, r, &in)
		}
		var routing collection.Routing
		if err == nil {
			routing, err = readRouting(r, &in)
		}
		var out Out
		if err == nil {
			ctx, cancel, timeout, cerr := s.readContext(r)
			if err = cerr; err == nil {
				out, err = run(collection.WithRouting(ctx, routing), c, &in)
				err = readTimeout(err, timeout)
				cancel()
			}
		}
		if err != nil {
			s.fail(w, r, start, err)
			return
		}
		s.ok(w, start, out)
	}
}

// parseSearchParams reads Qdrant's SearchParams: hnsw_ef, exact,
// indexed_only and quantization (QuantizationSearchParams).
func parseSearchParams(raw json.RawMessage) (ops.SearchParams, error) {
	var out ops.SearchParams
	if !isSet(raw) {
		return out, nil
	}
	var in struct {
		HnswEf       usize           `json:"hnsw_ef"`
		Exact        *bool           `json:"exact"`
		IndexedOnly  *bool           `json:"indexed_only"`
		Quantization json.RawMessage `json:"quantization"`
		ACORN        json.RawMessage `json:"acorn"`
	}
	err := json.Unmarshal(raw, &in)
	if err != nil {
		return out, formatError(fmt.Errorf("params: %w", err))
	}
	if out.HnswEf, err = positive("params.hnsw_ef", in.HnswEf, 0); err != nil {
		return out, err
	}
	out.Exact = in.Exact != nil && *in.Exact
	out.IndexedOnly = in.IndexedOnly != nil && *in.IndexedOnly
	out.Quantization, err = parseQuantizationParams(in.Quantization)
	return out, err
}

// parseQuantizationParams reads QuantizationSearchParams; null or absent
// gives nil. A value of the wrong JSON type is a format error, an
// oversampling below 1 a validation error.
func parseQuantizationParams(raw json.RawMessage) (*ops.QuantizationSearchParams, error) {
	raw = bytes.TrimSpace(raw)
	if !isSet(raw) {
		return nil, nil
	}
	var f map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &f) != nil {
		return nil, formatError(errorString("params.quantization: expected an object"))
	}
	q := &ops.QuantizationSearchParams{}
	var ignore *bool
	for _, p := range []struct {
		key string
		dst any
	}{{"ignore", &ignore}, {"rescore", &q.Rescore}, {"oversampling", &q.Oversampling}} {
		v, ok := f[p.key]
		if !ok || !isSet(bytes.TrimSpace(v)) {
			continue
		}
		if err := json.Unmarshal(v, p.dst); err != nil {
			return nil, formatError(fmt.Errorf("params.quantization.%s: invalid type: %v", p.key, err))
		}
	}
	q.Ignore = ignore != nil && *ignore
	if err := q.Validate(); err != nil {
		return nil, validationError("params.quantization." + err.Error())
	}
	return q, nil
}

// readRouting is the routing of a read: ?consistency= and, for a body
// with one, its shard_key (a batch routes each of its requests itself).
func readRouting(r *http.Request, in any) (collection.Routing, error) {
	rc, err := queryConsistency(r)
	if err != nil {
		return collection.Routing{}, err
	}
	sel, err := selectionOf(in)
	if err != nil {
		return collection.Routing{}, err
	}
	return collection.Routing{Consistency: rc, ShardKeys: sel.keys, Fallback: sel.fallback}, nil
}
