package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

type pointStructIn struct {
	ID      *point.ID     `json:"id"`
	Vector  *vectorStruct `json:"vector"`
	Payload point.Payload `json:"payload"`
}

type batchIn struct {
	IDs      []point.ID      `json:"ids"`
	Vectors  json.RawMessage `json:"vectors"`
	Payloads []point.Payload `json:"payloads"`
}

type upsertIn struct {
	Points       *[]pointStructIn `json:"points"`
	Batch        *batchIn         `json:"batch"`
	UpdateFilter json.RawMessage  `json:"update_filter"`
	UpdateMode   *string          `json:"update_mode"`
	ShardKey     json.RawMessage  `json:"shard_key"`

	batchShapes []multiShape // the batch's multivectors, per point (multi.go)
	batchBare   bool         // the batch's vectors are the unnamed one's list
}

// pointsOp converts an upsert body into an operation.
func (in *upsertIn) operation() (*ops.Operation, error) {
	op := &ops.Operation{Kind: ops.Upsert}
	var err error
	if op.UpdateFilter, err = parseUpdateFilter(in.UpdateFilter); err != nil {
		return nil, err
	}
	if op.UpdateMode, err = parseUpdateMode(in.UpdateMode); err != nil {
		return nil, err
	}
	switch {
	case in.Points != nil && in.Batch != nil:
		return nil, formatError(errorString("expected either `points` or `batch`, not both"))
	case in.Points != nil:
		op.Points = make([]ops.PointStruct, len(*in.Points))
		for i, p := range *in.Points {
			if p.ID == nil {
				return nil, formatError(errorString("missing field `id`"))
			}
			if p.Vector == nil {
				return nil, formatError(errorString("missing field `vector`"))
			}
			if err := checkSparse(fmt.Sprintf("points[%d].vector.?", i), p.Vector.sparse); err != nil {
				return nil, err
			}
			op.Points[i] = ops.PointStruct{ID: *p.ID, Vectors: p.Vector.vecs, Sparse: p.Vector.sparse, Payload: p.Payload}
		}
	case in.Batch != nil:
		b := in.Batch
		vecs, sparse, shapes, bare, err := batchVectors(b.Vectors, len(b.IDs))
		if err != nil {
			return nil, err
		}
		in.batchShapes, in.batchBare = shapes, bare
		if b.Payloads != nil && len(b.Payloads) != len(b.IDs) {
			return nil, badRequest("Wrong input: number of payloads (%d) does not match number of ids (%d)", len(b.Payloads), len(b.IDs))
		}
		op.Points = make([]ops.PointStruct, len(b.IDs))
		for i, id := range b.IDs {
			op.Points[i] = ops.PointStruct{ID: id, Vectors: vecs[i], Sparse: sparse[i]}
			if b.Payloads != nil {
				op.Points[i].Payload = b.Payloads[i]
			}
		}
	default:
		return nil, formatError(errorString("data did not match any variant of untagged enum PointInsertOperations"))
	}
	return op, nil
}

// batchVectors decodes BatchVectorStruct: a list of dense vectors or of
// multivectors (the unnamed vector's), or an object of lists by vector
// name whose items are dense lists, multivectors or sparse objects. It
// returns each point's dense and sparse vectors (nil when it has none),
// the shapes of its multivectors, which come flattened, and whether the
// vectors were the unnamed vector's list.
func batchVectors(raw json.RawMessage, n int) ([]point.Vectors, []point.SparseVectors, []multiShape, bool, error) {
	out := make([]point.Vectors, n)
	for i := range out {
		out[i] = point.Vectors{}
	}
	sparse := make([]point.SparseVectors, n)
	shapes := make([]multiShape, n)
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err == nil {
		if len(list) != n {
			return nil, nil, nil, false, badRequest("Wrong input: number of vectors (%d) does not match number of ids (%d)", len(list), n)
		}
		for i, item := range list {
			v := vectorStruct{}
			vec, err := v.dense(point.DefaultVector, item)
			if err != nil {
				return nil, nil, nil, false, formatError(errorString("batch.vectors: expected a list of vectors or an object of named vector lists"))
			}
			out[i][point.DefaultVector], shapes[i] = vec, v.shape
		}
		return out, sparse, shapes, true, nil
	}
	var named map[string][]json.RawMessage
	if err := json.Unmarshal(raw, &named); err != nil {
		return nil, nil, nil, false, formatError(errorString("batch.vectors: expected a list of vectors or an object of named vector lists"))
	}
	for _, name := range slices.Sorted(maps.Keys(named)) {
		list := named[name]
		if len(list) != n {
			return nil, nil, nil, false, badRequest("Wrong input: number of vectors for %q (%d) does not match number of ids (%d)", name, len(list), n)
		}
		for i, item := range list {
			if isNested(item) {
				v := vectorStruct{shape: shapes[i]}
				vec, err := v.dense(name, item)
				if err != nil {
					return nil, nil, nil, false, formatError(fmt.Errorf("batch.vectors.%s[%d]: %w", name, i, err))
				}
				out[i][name], shapes[i] = vec, v.shape
				continue
			}
			v, sp, err := vectorValue(item)
			if err != nil {
				return nil, nil, nil, false, formatError(fmt.Errorf("batch.vectors.%s[%d]: %w", name, i, err))
			}
			if sp == nil {
				out[i][name] = v
				continue
			}
			if err := checkSparse(fmt.Sprintf("batch.vectors.?[%d]", i), point.SparseVectors{name: *sp}); err != nil {
				return nil, nil, nil, false, err
			}
			if sparse[i] == nil {
				sparse[i] = point.SparseVectors{}
			}
			sparse[i][name] = *sp
		}
	}
	return out, sparse, shapes, false, nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

func isSet(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// filterError maps a filter that parsed but breaks a rule to 422, as
// Qdrant does, and anything else to a format error.
func filterError(err error) error {
	if errors.Is(err, filter.ErrValidation) {
		return validationError("filter." + err.Error())
	}
	return formatError(err)
}

func parseFilter(raw json.RawMessage) (*filter.Filter, error) {
	if !isSet(raw) {
		return nil, nil
	}
	f, err := filter.Parse(raw)
	if err != nil {
		return nil, filterError(err)
	}
	return f, nil
}

// parseUpdateFilter parses the update_filter of an upsert or a vector
// update (null or absent: none).
func parseUpdateFilter(raw json.RawMessage) (*filter.Filter, error) {
	if !isSet(raw) {
		return nil, nil
	}
	f, err := filter.Parse(raw)
	if err != nil {
		if errors.Is(err, filter.ErrValidation) {
			return nil, validationError("update_filter." + err.Error())
		}
		return nil, formatError(fmt.Errorf("update_filter: %w", err))
	}
	return f, nil
}

// parseUpdateMode parses Qdrant's UpdateMode (null or absent: upsert, the
// zero value of the vocabulary).
func parseUpdateMode(s *string) (ops.UpdateMode, error) {
	if s == nil {
		return "", nil
	}
	switch m := ops.UpdateMode(*s); m {
	case ops.ModeUpsert:
		return "", nil
	case ops.ModeInsertOnly, ops.ModeUpdateOnly:
		return m, nil
	}
	return "", formatError(fmt.Errorf("update_mode: unknown variant `%s`, expected one of `upsert`, `insert_only`, `update_only`", *s))
}

func parsePathID(s string) (point.ID, error) {
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return point.NumID(n), nil
	}
	id, err := point.ParseUUID(s)
	if err != nil {
		return point.ID{}, badRequest("Wrong input: Unable to parse point id %q: expected an unsigned integer or a UUID", s)
	}
	return id, nil
}

func (s *Server) getPoint(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c, err := s.node.Collection(r.PathValue("name"))
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	id, err := parsePathID(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	routing, err := readRouting(r, nil)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	ctx, cancel, timeout, err := s.readContext(r)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	defer cancel()
	recs, err := c.Retrieve(collection.WithRouting(ctx, routing), []point.ID{id}, ops.PayloadSelector{Enable: true}, ops.VectorSelector{Enable: true})
	if err != nil {
		s.fail(w, r, start, readTimeout(during("retrieve", err), timeout))
		return
	}
	if len(recs) == 0 {
		s.fail(w, r, start, point.PointNotFound(id))
		return
	}
	s.ok(w, start, recordsOut(recs, multiVector(c))[0])
}

type retrieveIn struct {
	IDs         *[]point.ID     `json:"ids"`
	WithPayload withPayload     `json:"with_payload"`
	WithVector  withVector      `json:"with_vector"`
	WithVectors withVector      `json:"with_vectors"` // alias, as in Qdrant
	ShardKey    json.RawMessage `json:"shard_key"`
}

func (s *Server) runRetrieve(ctx context.Context, c *collection.Collection, in *retrieveIn) ([]recordOut, error) {
	if in.IDs == nil {
		return nil, formatError(errorString("missing field `ids`"))
	}
	wp := in.WithPayload.sel
	if !in.WithPayload.set {
		wp = ops.PayloadSelector{Enable: true} // retrieve returns payload by default
	}
	recs, err := c.Retrieve(ctx, *in.IDs, wp, in.WithVector.or(in.WithVectors))
	if err != nil {
		return nil, during("retrieve", err)
	}
	return recordsOut(recs, multiVector(c)), nil
}
