package p2p

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/google/uuid"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// This file converts the results of the Points service between the
// engine's values (collection.ScoredPoint, Record, FacetHit, the update
// options and results) and their proto messages. Floats travel as proto
// floats (their IEEE bits, so scores and vectors come back bit for bit),
// payloads as their JSON text (numbers as written). A message that does
// not convert (a peer's bug, or bytes that are not ours) gives an error
// wrapping ErrBadResponse, never a panic.

// ErrBadResponse marks an answer of a peer that does not make sense (an
// id that is neither a number nor a UUID, a payload that is not a JSON
// object, a sparse vector whose indices and values differ in length...).
var ErrBadResponse = errors.New("malformed response")

func badResponse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadResponse, fmt.Sprintf(format, args...))
}

func idToProto(id point.ID) *p2pv1.PointId {
	if id.IsUUID() {
		u := id.UUID()
		return &p2pv1.PointId{Id: &p2pv1.PointId_Uuid{Uuid: u[:]}}
	}
	return &p2pv1.PointId{Id: &p2pv1.PointId_Num{Num: id.Num()}}
}

func idFromProto(p *p2pv1.PointId) (point.ID, error) {
	switch x := p.GetId().(type) {
	case *p2pv1.PointId_Num:
		return point.NumID(x.Num), nil
	case *p2pv1.PointId_Uuid:
		u, err := uuid.FromBytes(x.Uuid)
		if err != nil {
			return point.ID{}, badResponse("uuid of %d bytes", len(x.Uuid))
		}
		return point.UUIDID(u), nil
	}
	return point.ID{}, badResponse("point id without a value")
}

// payloadToProto writes a payload's JSON object; nil (no payload asked
// for) is no bytes, and an empty payload is "{}".
func payloadToProto(p point.Payload) ([]byte, error) {
	if p == nil {
		return nil, nil
	}
	return json.Marshal(map[string]any(p))
}

func payloadFromProto(b []byte) (point.Payload, error) {
	if len(b) == 0 {
		return nil, nil
	}
	p, err := point.DecodePayload(b)
	if err != nil || p == nil {
		return nil, badResponse("payload is not a JSON object")
	}
	return p, nil
}

// vectorsToProto writes dense and sparse vectors by name in ascending
// order; nil maps (not asked for) stay absent, empty ones present.
func vectorsToProto(dense point.Vectors, sparse point.SparseVectors) *p2pv1.Vectors {
	if dense == nil && sparse == nil {
		return nil
	}
	v := &p2pv1.Vectors{HasDense: dense != nil, HasSparse: sparse != nil}
	for _, name := range slices.Sorted(maps.Keys(dense)) {
		v.Dense = append(v.Dense, &p2pv1.DenseVector{Name: name, Values: dense[name]})
	}
	for _, name := range slices.Sorted(maps.Keys(sparse)) {
		s := sparse[name]
		v.Sparse = append(v.Sparse, &p2pv1.SparseVector{Name: name, Indices: s.Indices, Values: s.Values})
	}
	return v
}

func vectorsFromProto(v *p2pv1.Vectors) (point.Vectors, point.SparseVectors, error) {
	if v == nil {
		return nil, nil, nil
	}
	if !v.GetHasDense() && len(v.GetDense()) > 0 || !v.GetHasSparse() && len(v.GetSparse()) > 0 {
		return nil, nil, badResponse("vectors without their presence flag")
	}
	var dense point.Vectors
	if v.GetHasDense() {
		dense = make(point.Vectors, len(v.GetDense()))
		for _, d := range v.GetDense() {
			if _, dup := dense[d.GetName()]; dup {
				return nil, nil, badResponse("vector %q twice", d.GetName())
			}
			dense[d.GetName()] = nonNil(d.GetValues())
		}
	}
	var sparse point.SparseVectors
	if v.GetHasSparse() {
		sparse = make(point.SparseVectors, len(v.GetSparse()))
		for _, s := range v.GetSparse() {
			if _, dup := sparse[s.GetName()]; dup {
				return nil, nil, badResponse("sparse vector %q twice", s.GetName())
			}
			if len(s.GetIndices()) != len(s.GetValues()) {
				return nil, nil, badResponse("sparse vector %q: %d indices, %d values", s.GetName(), len(s.GetIndices()), len(s.GetValues()))
			}
			sparse[s.GetName()] = point.SparseVector{Indices: nonNil(s.GetIndices()), Values: nonNil(s.GetValues())}
		}
	}
	return dense, sparse, nil
}

// nonNil gives an empty slice for a repeated field that arrived empty:
// the engine never stores a nil vector.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func scoredToProto(hits []collection.ScoredPoint) ([]*p2pv1.ScoredPoint, error) {
	out := make([]*p2pv1.ScoredPoint, len(hits))
	for i, h := range hits {
		pl, err := payloadToProto(h.Payload)
		if err != nil {
			return nil, fmt.Errorf("payload of point %s: %w", h.ID, err)
		}
		out[i] = &p2pv1.ScoredPoint{Id: idToProto(h.ID), Version: h.Version, Score: h.Score, Payload: pl, Vectors: vectorsToProto(h.Vectors, h.Sparse)}
	}
	return out, nil
}

func scoredFromProto(in []*p2pv1.ScoredPoint) ([]collection.ScoredPoint, error) {
	out := make([]collection.ScoredPoint, len(in))
	for i, p := range in {
		id, err := idFromProto(p.GetId())
		if err != nil {
			return nil, err
		}
		pl, err := payloadFromProto(p.GetPayload())
		if err != nil {
			return nil, fmt.Errorf("point %s: %w", id, err)
		}
		dense, sparse, err := vectorsFromProto(p.GetVectors())
		if err != nil {
			return nil, fmt.Errorf("point %s: %w", id, err)
		}
		out[i] = collection.ScoredPoint{ID: id, Version: p.GetVersion(), Score: p.GetScore(), Payload: pl, Vectors: dense, Sparse: sparse}
	}
	return out, nil
}

func recordsToProto(recs []collection.Record) ([]*p2pv1.Record, error) {
	out := make([]*p2pv1.Record, len(recs))
	for i, r := range recs {
		pl, err := payloadToProto(r.Payload)
		if err != nil {
			return nil, fmt.Errorf("payload of point %s: %w", r.ID, err)
		}
		pr := &p2pv1.Record{Id: idToProto(r.ID), Version: r.Version, Payload: pl, Vectors: vectorsToProto(r.Vectors, r.Sparse)}
		switch v := r.OrderValue.(type) {
		case nil:
		case int64:
			pr.OrderValue = &p2pv1.OrderValue{Value: &p2pv1.OrderValue_Integer{Integer: v}}
		case float64:
			pr.OrderValue = &p2pv1.OrderValue{Value: &p2pv1.OrderValue_Float{Float: v}}
		default:
			return nil, fmt.Errorf("order value %T of point %s", r.OrderValue, r.ID)
		}
		out[i] = pr
	}
	return out, nil
}

func recordsFromProto(in []*p2pv1.Record) ([]collection.Record, error) {
	out := make([]collection.Record, len(in))
	for i, p := range in {
		id, err := idFromProto(p.GetId())
		if err != nil {
			return nil, err
		}
		pl, err := payloadFromProto(p.GetPayload())
		if err != nil {
			return nil, fmt.Errorf("point %s: %w", id, err)
		}
		dense, sparse, err := vectorsFromProto(p.GetVectors())
		if err != nil {
			return nil, fmt.Errorf("point %s: %w", id, err)
		}
		r := collection.Record{ID: id, Version: p.GetVersion(), Payload: pl, Vectors: dense, Sparse: sparse}
		if ov := p.GetOrderValue(); ov != nil {
			switch v := ov.GetValue().(type) {
			case *p2pv1.OrderValue_Integer:
				r.OrderValue = v.Integer
			case *p2pv1.OrderValue_Float:
				r.OrderValue = v.Float
			default:
				return nil, badResponse("order value of point %s without a value", id)
			}
		}
		out[i] = r
	}
	return out, nil
}

func facetToProto(hits []collection.FacetHit) ([]*p2pv1.FacetHit, error) {
	out := make([]*p2pv1.FacetHit, len(hits))
	for i, h := range hits {
		if h.Count < 0 {
			return nil, fmt.Errorf("facet count %d", h.Count)
		}
		ph := &p2pv1.FacetHit{Count: uint64(h.Count)}
		switch v := h.Value.(type) {
		case string:
			ph.Value = &p2pv1.FacetHit_Keyword{Keyword: v}
		case int64:
			ph.Value = &p2pv1.FacetHit_Integer{Integer: v}
		case bool:
			ph.Value = &p2pv1.FacetHit_Boolean{Boolean: v}
		default:
			return nil, fmt.Errorf("facet value %T", h.Value)
		}
		out[i] = ph
	}
	return out, nil
}

func facetFromProto(in []*p2pv1.FacetHit) ([]collection.FacetHit, error) {
	out := make([]collection.FacetHit, len(in))
	for i, h := range in {
		if h.GetCount() > math.MaxInt {
			return nil, badResponse("facet count %d", h.GetCount())
		}
		fh := collection.FacetHit{Count: int(h.GetCount())}
		switch v := h.GetValue().(type) {
		case *p2pv1.FacetHit_Keyword:
			fh.Value = v.Keyword
		case *p2pv1.FacetHit_Integer:
			fh.Value = v.Integer
		case *p2pv1.FacetHit_Boolean:
			fh.Value = v.Boolean
		default:
			return nil, badResponse("facet hit without a value")
		}
		out[i] = fh
	}
	return out, nil
}

var orderings = map[collection.WriteOrdering]p2pv1.WriteOrdering{
	collection.OrderingWeak:   p2pv1.WriteOrdering_WRITE_ORDERING_WEAK,
	collection.OrderingMedium: p2pv1.WriteOrdering_WRITE_ORDERING_MEDIUM,
	collection.OrderingStrong: p2pv1.WriteOrdering_WRITE_ORDERING_STRONG,
}

func orderingFromProto(o p2pv1.WriteOrdering) (collection.WriteOrdering, bool) {
	for k, v := range orderings {
		if v == o {
			return k, true
		}
	}
	return 0, false
}

func tagToProto(t *ops.ClockTag) *p2pv1.ClockTag {
	if t == nil {
		return nil
	}
	return &p2pv1.ClockTag{PeerId: t.PeerID, ClockId: t.ClockID, ClockTick: t.Tick, Token: t.Token, Force: t.Force}
}

func tagFromProto(t *p2pv1.ClockTag) *ops.ClockTag {
	if t == nil {
		return nil
	}
	return &ops.ClockTag{PeerID: t.GetPeerId(), ClockID: t.GetClockId(), Tick: t.GetClockTick(), Token: t.GetToken(), Force: t.GetForce()}
}

func updateResultToProto(r collection.RemoteUpdateResult) *p2pv1.UpdateResponse {
	resp := &p2pv1.UpdateResponse{OperationId: r.OperationID, Status: p2pv1.UpdateStatus_UPDATE_STATUS_ACKNOWLEDGED}
	switch {
	case r.Rejected:
		resp.Status = p2pv1.UpdateStatus_UPDATE_STATUS_CLOCK_REJECTED
	case r.Completed:
		resp.Status = p2pv1.UpdateStatus_UPDATE_STATUS_COMPLETED
	}
	if r.Tag != (ops.ClockTag{}) {
		resp.ClockTag = tagToProto(&r.Tag)
	}
	return resp
}

func updateResultFromProto(resp *p2pv1.UpdateResponse) (collection.RemoteUpdateResult, error) {
	r := collection.RemoteUpdateResult{OperationID: resp.GetOperationId()}
	switch resp.GetStatus() {
	case p2pv1.UpdateStatus_UPDATE_STATUS_ACKNOWLEDGED:
	case p2pv1.UpdateStatus_UPDATE_STATUS_COMPLETED:
		r.Completed = true
	case p2pv1.UpdateStatus_UPDATE_STATUS_CLOCK_REJECTED:
		r.Rejected = true
	default:
		return collection.RemoteUpdateResult{}, badResponse("update status %v", resp.GetStatus())
	}
	if t := tagFromProto(resp.GetClockTag()); t != nil {
		r.Tag = *t
	}
	return r, nil
}
