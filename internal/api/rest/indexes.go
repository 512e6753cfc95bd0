package rest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

type createIndexIn struct {
	FieldName   *string         `json:"field_name"`
	FieldSchema json.RawMessage `json:"field_schema"`
	FieldType   json.RawMessage `json:"field_type"` // Qdrant's serde alias of field_schema
}

func (in *createIndexIn) operation() (*ops.Operation, error) {
	if in.FieldName == nil {
		return nil, formatError(errorString("missing field `field_name`"))
	}
	if in.FieldType != nil {
		if in.FieldSchema != nil {
			return nil, formatError(errorString("duplicate field `field_schema`"))
		}
		in.FieldSchema = in.FieldType
	}
	if _, err := point.ParsePath(*in.FieldName); err != nil {
		return nil, badRequest("Wrong input: invalid field name %q: %v", *in.FieldName, err)
	}
	if !isSet(in.FieldSchema) {
		// Qdrant infers a type from stored values here; Shoal asks for it.
		return nil, badRequest("Bad request: field_schema is required: Shoal does not infer payload index types")
	}
	// A schema that does not parse is a format error (400) as in Qdrant;
	// one that parses but breaks a rule is a validation error (422).
	schema, err := ops.ParseFieldSchema(in.FieldSchema)
	if err != nil {
		var fe *ops.FieldError
		if errors.As(err, &fe) {
			return nil, validationError("field_schema." + fe.Error())
		}
		return nil, formatError(err)
	}
	return &ops.Operation{Kind: ops.CreateIndex, Key: *in.FieldName, Schema: &schema}, nil
}

var createIndexBuilder = build[createIndexIn]()

func (s *Server) createIndex(w http.ResponseWriter, r *http.Request) {
	s.writeOp(w, r, createIndexBuilder)
}

type deleteIndexIn struct{ field string }

func (in *deleteIndexIn) operation() (*ops.Operation, error) {
	return &ops.Operation{Kind: ops.DeleteIndex, Key: in.field}, nil
}

// deleteIndex serves DELETE /collections/{name}/index/{field}: an update
// without a body.
func (s *Server) deleteIndex(w http.ResponseWriter, r *http.Request) {
	field := r.PathValue("field")
	s.writeOp(w, r, func(vectorShapes, json.RawMessage) (*ops.Operation, shardSelection, error) {
		op, err := (&deleteIndexIn{field: field}).operation()
		return op, shardSelection{}, err
	})
}

type facetIn struct {
	Key      *string         `json:"key"`
	Limit    usize           `json:"limit"`
	Filter   json.RawMessage `json:"filter"`
	Exact    *bool           `json:"exact"`
	ShardKey json.RawMessage `json:"shard_key"`
}

type facetOut struct {
	Hits []collection.FacetHit `json:"hits"`
}

func (s *Server) runFacet(ctx context.Context, c *collection.Collection, in *facetIn) (*facetOut, error) {
	if in.Key == nil {
		return nil, formatError(errorString("missing field `key`"))
	}
	limit, err := positive("limit", in.Limit, 10)
	if err != nil {
		return nil, err
	}
	f, err := parseFilter(in.Filter)
	if err != nil {
		return nil, err
	}
	hits, err := c.Facet(ctx, ops.FacetRequest{Key: *in.Key, Filter: f, Limit: limit, Exact: in.Exact != nil && *in.Exact})
	if err != nil {
		return nil, during("facet", err)
	}
	return &facetOut{Hits: hits}, nil
}

// orderByIn is Qdrant's OrderByInterface: a key, or {key, direction,
// start_from}.
type orderByIn struct {
	set       bool
	by        ops.OrderBy
	startFrom json.RawMessage
}

func (o *orderByIn) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	o.set = true
	var key string
	if err := json.Unmarshal(b, &key); err == nil {
		o.by = ops.OrderBy{Key: key}
		return nil
	}
	var obj struct {
		Key       *string         `json:"key"`
		Direction *string         `json:"direction"`
		StartFrom json.RawMessage `json:"start_from"`
	}
	if err := json.Unmarshal(b, &obj); err != nil || obj.Key == nil {
		return errorString("order_by: data did not match any variant of untagged enum OrderByInterface")
	}
	o.by = ops.OrderBy{Key: *obj.Key}
	if obj.Direction != nil {
		switch *obj.Direction {
		case "asc":
		case "desc":
			o.by.Desc = true
		default:
			return errorString("order_by.direction: unknown variant `" + *obj.Direction + "`, expected `asc` or `desc`")
		}
	}
	if isSet(obj.StartFrom) {
		o.startFrom = obj.StartFrom
	}
	return nil
}

// orderBy returns the order of a scroll, with start_from read as a number
// or a datetime string.
func (o *orderByIn) orderBy() (*ops.OrderBy, error) {
	by := o.by
	if raw := o.startFrom; raw != nil {
		var n float64
		var s string
		switch {
		case json.Unmarshal(raw, &n) == nil:
			by.StartFrom = &ops.StartFrom{Number: &n}
		case json.Unmarshal(raw, &s) == nil:
			by.StartFrom = &ops.StartFrom{Datetime: &s}
		default:
			return nil, point.Errorf(point.KindBadInput, "order_by.start_from: expected a number or a datetime, got %s", raw)
		}
	}
	return &by, nil
}

// writeOp is write for routes whose operation is not a JSON body alone.
func (s *Server) writeOp(w http.ResponseWriter, r *http.Request, b builder) {
	start := time.Now()
	res, err := s.applyWrite(w, r, b)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, res)
}
