package rest

import (
	"net/http"
	"time"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/node"
)

// vectorNameParams reads what both named vector routes take: the
// collection and vector names of the path (Qdrant's VectorNamePath) and
// the update parameters (wait, ordering, timeout).
func vectorNameParams(r *http.Request) (coll, vec string, p writeParams, err error) {
	if coll, err = pathName(r); err != nil {
		return "", "", p, err
	}
	vec = r.PathValue("vector")
	if err := node.ValidateVectorName(vec); err != nil {
		return "", "", p, &requestError{http.StatusUnprocessableEntity, "Validation error in path parameters: [" + err.Error() + "]"}
	}
	p, err = parseWriteParams(r)
	return coll, vec, p, err
}

// vectorNameResult is Qdrant's UpdateResult for a change of the
// collection's vectors: a change of its configuration (through consensus
// in a cluster), applied before the answer, with no operation number.
func vectorNameResult(p writeParams) collection.UpdateResult {
	if p.wait {
		return collection.UpdateResult{Status: collection.Completed}
	}
	return collection.UpdateResult{Status: collection.Acknowledged}
}

// createVectorName serves PUT /collections/{name}/vectors/{vector}: a
// VectorNameConfig body, {"dense": {...}} or {"sparse": {...}}.
func (s *Server) createVectorName(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	res, err := func() (collection.UpdateResult, error) {
		coll, vec, params, err := vectorNameParams(r)
		if err != nil {
			return collection.UpdateResult{}, err
		}
		raw, err := s.readRaw(w, r)
		if err != nil {
			return collection.UpdateResult{}, err
		}
		vc, err := collection.ParseVectorNameConfig(raw)
		if err != nil {
			return collection.UpdateResult{}, err
		}
		ctx, cancel := params.context(r.Context())
		defer cancel()
		if err := s.node.CreateVectorName(ctx, coll, vec, vc); err != nil {
			return collection.UpdateResult{}, err
		}
		return vectorNameResult(params), nil
	}()
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, updateResultOut(res))
}

// deleteVectorName serves DELETE /collections/{name}/vectors/{vector}.
func (s *Server) deleteVectorName(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	res, err := func() (collection.UpdateResult, error) {
		coll, vec, params, err := vectorNameParams(r)
		if err != nil {
			return collection.UpdateResult{}, err
		}
		ctx, cancel := params.context(r.Context())
		defer cancel()
		if err := s.node.DeleteVectorName(ctx, coll, vec); err != nil {
			return collection.UpdateResult{}, err
		}
		return vectorNameResult(params), nil
	}()
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, updateResultOut(res))
}

// updateResultOut writes an UpdateResult without an operation number as
// {"operation_id": null, ...}.
type updateResultWire struct {
	OperationID *uint64                 `json:"operation_id"`
	Status      collection.UpdateStatus `json:"status"`
}

func updateResultOut(r collection.UpdateResult) updateResultWire {
	return updateResultWire{Status: r.Status}
}
