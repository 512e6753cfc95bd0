package ops

import (
	"strconv"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
)

// PayloadSelector chooses what payload a read returns: nothing, all, only
// the Include paths, or all but the Exclude paths.
type PayloadSelector struct {
	Enable  bool
	Include []point.Path
	Exclude []point.Path
}

// Apply returns the part of pl the selector asks for: nil when no payload
// is wanted, else a non-nil payload.
func (p PayloadSelector) Apply(pl point.Payload) point.Payload {
	switch {
	case !p.Enable:
		return nil
	case len(p.Include) > 0:
		pl = point.Select(pl, p.Include)
	case len(p.Exclude) > 0:
		pl = point.Exclude(pl, p.Exclude)
	}
	if pl == nil {
		return point.Payload{}
	}
	// Stored payloads are never mutated in place (updates replace them),
	// so sharing is safe for read-only callers.
	return pl
}

// VectorSelector chooses which vectors a read returns.
type VectorSelector struct {
	Enable bool
	Names  []string // empty with Enable: all
}

// Selection returns the test a read applies to each vector name, nil when
// no vector is wanted. A list of names from a request (which may repeat
// one name many times) is reduced to a set first, since the test runs for
// each vector of each record read.
func (v VectorSelector) Selection() func(name string) bool {
	if !v.Enable {
		return nil
	}
	if len(v.Names) == 0 {
		return func(string) bool { return true }
	}
	names := make(map[string]struct{}, min(len(v.Names), 16))
	for _, n := range v.Names {
		names[n] = struct{}{}
	}
	return func(n string) bool {
		_, ok := names[n]
		return ok
	}
}

// SearchParams are Qdrant's search params.
type SearchParams struct {
	HnswEf      int // 0: the collection's ef
	Exact       bool
	IndexedOnly bool
	// Quantization is QuantizationSearchParams; nil for Qdrant's defaults.
	Quantization *QuantizationSearchParams
}

// QuantizationSearchParams say how a search uses quantized vectors.
type QuantizationSearchParams struct {
	// Ignore searches the original vectors only.
	Ignore bool
	// Rescore nil means the default of the quantization (on for binary).
	Rescore *bool
	// Oversampling is at least 1; nil means 1.
	Oversampling *float64
}

// Validate checks oversampling (a *FieldError at "oversampling").
func (q *QuantizationSearchParams) Validate() error {
	if o := q.Oversampling; o != nil && !(*o >= 1) {
		v := strconv.FormatFloat(*o, 'g', -1, 64)
		return &FieldError{Field: "oversampling", Message: "value " + v + " invalid, must be 1.0 or larger"}
	}
	return nil
}

// SearchRequest is a nearest-neighbour search on one vector.
type SearchRequest struct {
	Using          string              // the vector name; "" for the unnamed vector
	Vector         []float32           // a dense query; nil when Sparse or QueryID is set
	Sparse         *point.SparseVector // a sparse query (Using names a sparse vector)
	QueryID        *point.ID           // search by the stored vector of this point
	Filter         *filter.Filter
	Limit          int
	Offset         int
	ScoreThreshold *float32
	WithPayload    PayloadSelector
	WithVector     VectorSelector
	Params         SearchParams
}

// NearestQuery is the query of a QueryRequest: a dense or a sparse vector,
// or the id of a point whose stored vector to search by. One is set.
type NearestQuery struct {
	Vector []float32
	Sparse *point.SparseVector
	ID     *point.ID
}

// QueryRequest is Qdrant's universal query, of which this version serves
// nearest-neighbour search (Nearest set) and, without a query, points in
// id order each with score 0.
type QueryRequest struct {
	Nearest        *NearestQuery
	Using          string
	Filter         *filter.Filter
	Params         SearchParams
	ScoreThreshold *float32
	Limit          int
	Offset         int
	WithPayload    PayloadSelector
	WithVector     VectorSelector
}

// ScrollRequest pages through points in id order, or by a payload value
// with OrderBy.
type ScrollRequest struct {
	Filter      *filter.Filter
	Offset      *point.ID
	OrderBy     *OrderBy
	Limit       int
	WithPayload PayloadSelector
	WithVector  VectorSelector
}

// OrderBy orders a scroll by a payload key with a range index.
type OrderBy struct {
	Key       string
	Desc      bool
	StartFrom *StartFrom // nil: from the first value
}

// StartFrom is where an ordered scroll starts: a number, or a datetime in
// a form Qdrant accepts. One of the two is set.
type StartFrom struct {
	Number   *float64
	Datetime *string
}

// CountRequest counts the points matching a filter (all without one);
// Exact false asks for the planner's estimate.
type CountRequest struct {
	Filter *filter.Filter
	Exact  bool
}

// FacetRequest counts the values of a payload key over the points matching
// a filter, the Limit most frequent first.
type FacetRequest struct {
	Key    string
	Filter *filter.Filter
	Limit  int
	// Exact asks for exact counts (Qdrant's `exact`); the counts are exact
	// either way here, but strict mode's search_allow_exact refuses it.
	Exact bool
}

// RetrieveRequest asks for points by id (Qdrant's retrieve), each with the
// payload and vectors its selectors choose.
type RetrieveRequest struct {
	IDs         []point.ID
	WithPayload PayloadSelector
	WithVector  VectorSelector
}
