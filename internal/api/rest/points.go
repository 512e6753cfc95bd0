package rest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/shard"
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
	ShardKey     json.RawMessage  `json:"shard_key"`
}

// pointsOp converts an upsert body into an operation.
func (in *upsertIn) operation() (*shard.Operation, error) {
	if isSet(in.UpdateFilter) {
		return nil, badRequest("Bad request: update_filter is not supported by this version of Shoal")
	}
	op := &shard.Operation{Kind: shard.OpUpsert}
	switch {
	case in.Points != nil && in.Batch != nil:
		return nil, formatError(errorString("expected either `points` or `batch`, not both"))
	case in.Points != nil:
		op.Points = make([]shard.PointStruct, len(*in.Points))
		for i, p := range *in.Points {
			if p.ID == nil {
				return nil, formatError(errorString("missing field `id`"))
			}
			if p.Vector == nil {
				return nil, formatError(errorString("missing field `vector`"))
			}
			op.Points[i] = shard.PointStruct{ID: *p.ID, Vectors: p.Vector.vecs, Payload: p.Payload}
		}
	case in.Batch != nil:
		b := in.Batch
		vecs, err := batchVectors(b.Vectors, len(b.IDs))
		if err != nil {
			return nil, err
		}
		if b.Payloads != nil && len(b.Payloads) != len(b.IDs) {
			return nil, badRequest("Wrong input: number of payloads (%d) does not match number of ids (%d)", len(b.Payloads), len(b.IDs))
		}
		op.Points = make([]shard.PointStruct, len(b.IDs))
		for i, id := range b.IDs {
			op.Points[i] = shard.PointStruct{ID: id, Vectors: vecs[i]}
			if b.Payloads != nil {
				op.Points[i].Payload = b.Payloads[i]
			}
		}
	default:
		return nil, formatError(errorString("data did not match any variant of untagged enum PointInsertOperations"))
	}
	return op, nil
}

// batchVectors decodes BatchVectorStruct: a list of dense vectors, or an
// object of such lists by vector name.
func batchVectors(raw json.RawMessage, n int) ([]point.Vectors, error) {
	out := make([]point.Vectors, n)
	for i := range out {
		out[i] = point.Vectors{}
	}
	var list [][]float32
	if err := json.Unmarshal(raw, &list); err == nil {
		if len(list) != n {
			return nil, badRequest("Wrong input: number of vectors (%d) does not match number of ids (%d)", len(list), n)
		}
		for i, v := range list {
			out[i][point.DefaultVector] = v
		}
		return out, nil
	}
	var named map[string][][]float32
	if err := json.Unmarshal(raw, &named); err != nil {
		return nil, formatError(errorString("batch.vectors: expected a list of vectors or an object of named vector lists"))
	}
	for name, list := range named {
		if len(list) != n {
			return nil, badRequest("Wrong input: number of vectors for %q (%d) does not match number of ids (%d)", name, len(list), n)
		}
		for i, v := range list {
			out[i][name] = v
		}
	}
	return out, nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

func isSet(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// checkFilter parses a filter to report errors before anything is logged.
func checkFilter(raw json.RawMessage) error {
	if !isSet(raw) {
		return nil
	}
	if _, err := filter.Parse(raw); err != nil {
		return filterError(err)
	}
	return nil
}

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

// update runs a write: decode, build the operation, apply with ?wait.
func (s *Server) update(w http.ResponseWriter, r *http.Request, body any, build func() (*shard.Operation, error)) {
	start := time.Now()
	c, err := s.node.Collection(r.PathValue("name"))
	if err == nil {
		err = s.decodeBody(w, r, body)
	}
	var wait bool
	if err == nil {
		wait, err = queryWait(r)
	}
	if err == nil {
		err = queryOrdering(r)
	}
	var timeout time.Duration
	if err == nil {
		timeout, err = queryTimeout(r)
	}
	var op *shard.Operation
	if err == nil {
		op, err = build()
	}
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	ctx := r.Context()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	res, err := c.Update(ctx, op, wait)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, res)
}

func (s *Server) upsertPoints(w http.ResponseWriter, r *http.Request) {
	var in upsertIn
	s.update(w, r, &in, in.operation)
}

// selectorIn is Qdrant's PointsSelector plus the fields of payload bodies.
type selectorIn struct {
	Points   *[]point.ID     `json:"points"`
	Filter   json.RawMessage `json:"filter"`
	ShardKey json.RawMessage `json:"shard_key"`
}

func (in *selectorIn) apply(op *shard.Operation) error {
	switch {
	case in.Points != nil && isSet(in.Filter):
		return badRequest("Bad request: either list of point ids or filter must be provided, not both")
	case in.Points != nil:
		op.IDs = *in.Points
	case isSet(in.Filter):
		if err := checkFilter(in.Filter); err != nil {
			return err
		}
		op.Filter = in.Filter
	default:
		return badRequest("Bad request: either list of point ids or filter must be provided")
	}
	return nil
}

func (s *Server) deletePoints(w http.ResponseWriter, r *http.Request) {
	var in selectorIn
	s.update(w, r, &in, func() (*shard.Operation, error) {
		op := &shard.Operation{Kind: shard.OpDelete}
		return op, in.apply(op)
	})
}

type setPayloadIn struct {
	selectorIn
	Payload *point.Payload `json:"payload"`
	Key     *string        `json:"key"`
}

func (s *Server) payloadUpdate(w http.ResponseWriter, r *http.Request, kind shard.OpKind) {
	var in setPayloadIn
	s.update(w, r, &in, func() (*shard.Operation, error) {
		if in.Payload == nil {
			return nil, formatError(errorString("missing field `payload`"))
		}
		op := &shard.Operation{Kind: kind, Payload: *in.Payload}
		if in.Key != nil {
			if _, err := point.ParsePath(*in.Key); err != nil {
				return nil, badRequest("Wrong input: invalid key %q: %v", *in.Key, err)
			}
			op.Key = *in.Key
		}
		return op, in.apply(op)
	})
}

func (s *Server) setPayload(w http.ResponseWriter, r *http.Request) {
	s.payloadUpdate(w, r, shard.OpSetPayload)
}

func (s *Server) overwritePayload(w http.ResponseWriter, r *http.Request) {
	s.payloadUpdate(w, r, shard.OpOverwritePayload)
}

type deletePayloadIn struct {
	selectorIn
	Keys *[]string `json:"keys"`
}

func (s *Server) deletePayload(w http.ResponseWriter, r *http.Request) {
	var in deletePayloadIn
	s.update(w, r, &in, func() (*shard.Operation, error) {
		if in.Keys == nil {
			return nil, formatError(errorString("missing field `keys`"))
		}
		for _, k := range *in.Keys {
			if _, err := point.ParsePath(k); err != nil {
				return nil, badRequest("Wrong input: invalid key %q: %v", k, err)
			}
		}
		op := &shard.Operation{Kind: shard.OpDeletePayload, Keys: *in.Keys}
		return op, in.apply(op)
	})
}

func (s *Server) clearPayload(w http.ResponseWriter, r *http.Request) {
	var in selectorIn
	s.update(w, r, &in, func() (*shard.Operation, error) {
		op := &shard.Operation{Kind: shard.OpClearPayload}
		return op, in.apply(op)
	})
}

type pointVectorsIn struct {
	ID     *point.ID     `json:"id"`
	Vector *vectorStruct `json:"vector"`
}

type updateVectorsIn struct {
	Points       []pointVectorsIn `json:"points"`
	UpdateFilter json.RawMessage  `json:"update_filter"`
}

func (s *Server) updateVectors(w http.ResponseWriter, r *http.Request) {
	var in updateVectorsIn
	s.update(w, r, &in, func() (*shard.Operation, error) {
		if len(in.Points) == 0 {
			return nil, validationError("points: must not be empty")
		}
		if isSet(in.UpdateFilter) {
			return nil, badRequest("Bad request: update_filter is not supported by this version of Shoal")
		}
		op := &shard.Operation{Kind: shard.OpUpdateVectors}
		for _, p := range in.Points {
			if p.ID == nil || p.Vector == nil {
				return nil, formatError(errorString("missing field `id` or `vector`"))
			}
			op.Vectors = append(op.Vectors, shard.PointVectors{ID: *p.ID, Vectors: p.Vector.vecs})
		}
		return op, nil
	})
}

type deleteVectorsIn struct {
	selectorIn
	Vector *[]string `json:"vector"`
}

func (s *Server) deleteVectors(w http.ResponseWriter, r *http.Request) {
	var in deleteVectorsIn
	s.update(w, r, &in, func() (*shard.Operation, error) {
		if in.Vector == nil {
			return nil, formatError(errorString("missing field `vector`"))
		}
		if len(*in.Vector) == 0 {
			return nil, validationError("vector: must not be empty")
		}
		op := &shard.Operation{Kind: shard.OpDeleteVectors, Keys: *in.Vector}
		return op, in.apply(op)
	})
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
	recs, err := c.Retrieve([]point.ID{id}, collection.PayloadSelector{Enable: true}, collection.VectorSelector{Enable: true})
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	if len(recs) == 0 {
		s.fail(w, r, start, point.ErrPointNotFound(id))
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

func (s *Server) runRetrieve(c *collection.Collection, in *retrieveIn) ([]recordOut, error) {
	if in.IDs == nil {
		return nil, formatError(errorString("missing field `ids`"))
	}
	wp := in.WithPayload.sel
	if !in.WithPayload.set {
		wp = collection.PayloadSelector{Enable: true} // retrieve returns payload by default
	}
	recs, err := c.Retrieve(*in.IDs, wp, in.WithVector.or(in.WithVectors))
	if err != nil {
		return nil, err
	}
	return recordsOut(recs, multiVector(c)), nil
}

func multiVector(c *collection.Collection) bool { return c.MultiVector() }

// matcher turns an optional filter into a segment.Matcher without a typed
// nil inside the interface.
func matcher(f *filter.Filter) segment.Matcher {
	if f == nil {
		return nil
	}
	return f
}
