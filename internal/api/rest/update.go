package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// opInput is a decoded update body that knows its operation.
type opInput interface {
	operation() (*ops.Operation, error)
}

// builder decodes an update body of type T and builds its operation and
// the shards its shard_key selects; c checks the shapes of the vectors it
// holds (multi.go).
type builder func(c vectorShapes, raw json.RawMessage) (*ops.Operation, shardSelection, error)

func build[T any, PT interface {
	*T
	opInput
}]() builder {
	return func(c vectorShapes, raw json.RawMessage) (*ops.Operation, shardSelection, error) {
		var in T
		if len(raw) == 0 {
			raw = json.RawMessage("{}")
		}
		if err := point.DecodeJSON(raw, &in); err != nil {
			return nil, shardSelection{}, formatError(err)
		}
		sel, err := selectionOf(PT(&in))
		if err != nil {
			return nil, shardSelection{}, err
		}
		op, err := PT(&in).operation()
		if err != nil {
			return nil, shardSelection{}, err
		}
		if mc, ok := any(PT(&in)).(multiChecked); ok {
			if err := mc.checkMultivectors(c, op); err != nil {
				return nil, shardSelection{}, err
			}
		}
		return op, sel, nil
	}
}

// updateBuilders maps Qdrant's update operation names (as used by
// points/batch) to their body decoders.
var updateBuilders = map[string]builder{
	"upsert":            build[upsertIn](),
	"delete":            build[deleteIn](),
	"set_payload":       build[setPayloadIn](),
	"overwrite_payload": build[overwritePayloadIn](),
	"delete_payload":    build[deletePayloadIn](),
	"clear_payload":     build[clearPayloadIn](),
	"update_vectors":    build[updateVectorsIn](),
	"delete_vectors":    build[deleteVectorsIn](),
}

// writeParams are the query parameters of every update route.
type writeParams struct {
	wait     bool
	timeout  time.Duration
	ordering collection.WriteOrdering
}

func parseWriteParams(r *http.Request) (writeParams, error) {
	var p writeParams
	var err error
	if p.wait, err = queryWait(r); err != nil {
		return p, err
	}
	if p.ordering, err = queryOrdering(r); err != nil {
		return p, err
	}
	p.timeout, err = queryTimeout(r)
	return p, err
}

// context bounds an update by ?timeout= and routes it with ?ordering=.
func (p writeParams) context(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx = collection.WithRouting(ctx, collection.Routing{Ordering: p.ordering})
	if p.timeout > 0 {
		return context.WithTimeout(ops.WithTimeout(ctx, p.timeout), p.timeout)
	}
	return ctx, func() {}
}

// readRaw reads a request body (bounded) as raw JSON.
func (s *Server) readRaw(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	var raw json.RawMessage
	if err := s.decodeBody(w, r, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// write serves one update route: find the collection, decode, build the
// operation, apply it with ?wait.
func (s *Server) write(name string) func(http.ResponseWriter, *http.Request) {
	b := updateBuilders[name]
	return func(w http.ResponseWriter, r *http.Request) { s.writeOp(w, r, b) }
}

func (s *Server) applyWrite(w http.ResponseWriter, r *http.Request, b builder) (collection.UpdateResult, error) {
	c, err := s.node.Collection(r.PathValue("name"))
	if err != nil {
		return collection.UpdateResult{}, err
	}
	raw, err := s.readRaw(w, r)
	if err != nil {
		return collection.UpdateResult{}, err
	}
	params, err := parseWriteParams(r)
	if err != nil {
		return collection.UpdateResult{}, err
	}
	op, sel, err := b(c, raw)
	if err != nil {
		return collection.UpdateResult{}, err
	}
	ctx, cancel := params.context(r.Context())
	defer cancel()
	// A payload index is collection metadata in a cluster: committed
	// through consensus first, then sent through the shards as before.
	ctx, err = s.node.ProposePayloadIndex(ctx, c, op)
	if err != nil {
		return collection.UpdateResult{}, err
	}
	return c.Update(withSelection(ctx, sel), op, params.wait)
}

// updateBatch serves POST points/batch: every operation is decoded and
// checked first, then applied in order; the answer lists one result per
// operation. Each operation has its own shard_key: consecutive operations
// that select the same shards are applied as one batch (all of them in
// the usual case of one key or none), and, as in Qdrant, an operation that
// fails leaves the ones before it applied.
func (s *Server) updateBatch(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	results, err := func() ([]collection.UpdateResult, error) {
		c, err := s.node.Collection(r.PathValue("name"))
		if err != nil {
			return nil, err
		}
		var in struct {
			Operations *[]map[string]json.RawMessage `json:"operations"`
		}
		if err := s.decodeBody(w, r, &in); err != nil {
			return nil, err
		}
		if in.Operations == nil {
			return nil, formatError(errorString("missing field `operations`"))
		}
		params, err := parseWriteParams(r)
		if err != nil {
			return nil, err
		}
		batch := make([]*ops.Operation, len(*in.Operations))
		sels := make([]shardSelection, len(batch))
		for i, obj := range *in.Operations {
			if len(obj) != 1 {
				return nil, formatError(fmt.Errorf("operations[%d]: expected an object with exactly one operation", i))
			}
			for name, raw := range obj {
				b, ok := updateBuilders[name]
				if !ok {
					return nil, formatError(fmt.Errorf("operations[%d]: unknown variant `%s`", i, name))
				}
				if batch[i], sels[i], err = b(c, raw); err != nil {
					return nil, err
				}
			}
		}
		ctx, cancel := params.context(r.Context())
		defer cancel()
		return updateRuns(ctx, batch, sels, func(ctx context.Context, part []*ops.Operation) ([]collection.UpdateResult, error) {
			return c.UpdateBatch(ctx, part, params.wait)
		})
	}()
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, results)
}

// selectorIn is Qdrant's PointsSelector plus the fields of payload bodies.
type selectorIn struct {
	Points   *[]point.ID     `json:"points"`
	Filter   json.RawMessage `json:"filter"`
	ShardKey json.RawMessage `json:"shard_key"`
}

func (in *selectorIn) apply(op *ops.Operation) error {
	switch {
	case in.Points != nil && isSet(in.Filter):
		return badRequest("Bad request: either list of point ids or filter must be provided, not both")
	case in.Points != nil:
		op.IDs = *in.Points
	case isSet(in.Filter):
		f, err := parseFilter(in.Filter)
		if err != nil {
			return err
		}
		op.Filter = f
	default:
		return badRequest("Bad request: either list of point ids or filter must be provided")
	}
	return nil
}

type deleteIn struct{ selectorIn }

func (in *deleteIn) operation() (*ops.Operation, error) {
	op := &ops.Operation{Kind: ops.Delete}
	return op, in.apply(op)
}

type clearPayloadIn struct{ selectorIn }

func (in *clearPayloadIn) operation() (*ops.Operation, error) {
	op := &ops.Operation{Kind: ops.ClearPayload}
	return op, in.apply(op)
}

type setPayloadIn struct {
	selectorIn
	Payload *point.Payload `json:"payload"`
	Key     *string        `json:"key"`
}

func (in *setPayloadIn) build(kind ops.Kind) (*ops.Operation, error) {
	if in.Payload == nil {
		return nil, formatError(errorString("missing field `payload`"))
	}
	op := &ops.Operation{Kind: kind, Payload: *in.Payload}
	if in.Key != nil {
		if _, err := point.ParsePath(*in.Key); err != nil {
			return nil, badRequest("Wrong input: invalid key %q: %v", *in.Key, err)
		}
		// overwrite_payload takes the key of its body and ignores it.
		if kind == ops.SetPayload {
			op.Key = *in.Key
		}
	}
	return op, in.apply(op)
}

func (in *setPayloadIn) operation() (*ops.Operation, error) { return in.build(ops.SetPayload) }

type overwritePayloadIn struct{ setPayloadIn }

func (in *overwritePayloadIn) operation() (*ops.Operation, error) {
	return in.build(ops.OverwritePayload)
}

type deletePayloadIn struct {
	selectorIn
	Keys *[]string `json:"keys"`
}

func (in *deletePayloadIn) operation() (*ops.Operation, error) {
	if in.Keys == nil {
		return nil, formatError(errorString("missing field `keys`"))
	}
	for _, k := range *in.Keys {
		if _, err := point.ParsePath(k); err != nil {
			return nil, badRequest("Wrong input: invalid key %q: %v", k, err)
		}
	}
	op := &ops.Operation{Kind: ops.DeletePayload, Keys: *in.Keys}
	return op, in.apply(op)
}

type pointVectorsIn struct {
	ID     *point.ID     `json:"id"`
	Vector *vectorStruct `json:"vector"`
}

type updateVectorsIn struct {
	Points       []pointVectorsIn `json:"points"`
	UpdateFilter json.RawMessage  `json:"update_filter"`
	ShardKey     json.RawMessage  `json:"shard_key"`
}

func (in *updateVectorsIn) operation() (*ops.Operation, error) {
	if len(in.Points) == 0 {
		return nil, validationError("points: must not be empty")
	}
	f, err := parseUpdateFilter(in.UpdateFilter)
	if err != nil {
		return nil, err
	}
	op := &ops.Operation{Kind: ops.UpdateVectors, UpdateFilter: f}
	var empty []string
	for i, p := range in.Points {
		if p.ID == nil || p.Vector == nil {
			return nil, formatError(errorString("missing field `id` or `vector`"))
		}
		if len(p.Vector.vecs)+len(p.Vector.sparse) == 0 {
			// Qdrant's PointVectors validation: {} names no vector.
			empty = append(empty, fmt.Sprintf("points[%d].vector: must specify vectors to update for point", i))
			continue
		}
		if err := checkSparse(fmt.Sprintf("points[%d].vector.?", i), p.Vector.sparse); err != nil {
			return nil, err
		}
		op.Vectors = append(op.Vectors, ops.PointVectors{ID: *p.ID, Vectors: p.Vector.vecs, Sparse: p.Vector.sparse})
	}
	if len(empty) > 0 {
		return nil, validationError(empty...)
	}
	return op, nil
}

type deleteVectorsIn struct {
	selectorIn
	Vector *[]string `json:"vector"`
}

func (in *deleteVectorsIn) operation() (*ops.Operation, error) {
	if in.Vector == nil {
		return nil, formatError(errorString("missing field `vector`"))
	}
	if len(*in.Vector) == 0 {
		return nil, validationError("vector: must not be empty")
	}
	op := &ops.Operation{Kind: ops.DeleteVectors, Keys: *in.Vector}
	return op, in.apply(op)
}

// updateRuns applies a batch's operations, routed by their shard keys:
// each run of consecutive operations that select the same shards as one
// batch, in order; the first error stops it.
func updateRuns(ctx context.Context, batch []*ops.Operation, sels []shardSelection,
	update func(context.Context, []*ops.Operation) ([]collection.UpdateResult, error)) ([]collection.UpdateResult, error) {
	if len(batch) == 0 {
		return update(ctx, batch)
	}
	results := make([]collection.UpdateResult, 0, len(batch))
	for _, run := range runsOf(sels) {
		res, err := update(withSelection(ctx, sels[run[0]]), batch[run[0]:run[1]])
		if err != nil {
			return nil, err
		}
		results = append(results, res...)
	}
	return results, nil
}
