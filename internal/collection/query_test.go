package collection

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// TestQuery: with a nearest query Query is Search; without one it lists
// points in id order from the offset, each with score 0.
func TestQuery(t *testing.T) {
	c, _ := openCollection(t, `{"vectors":{"size":2,"distance":"Euclid"}}`)
	for i := range uint64(6) {
		upsert(t, c, ops.PointStruct{ID: point.NumID(i), Vectors: point.Vectors{"": {float32(i), 0}}, Payload: point.Payload{"i": int(i)}})
	}
	ids := func(hits []ScoredPoint) []point.ID {
		var out []point.ID
		for _, h := range hits {
			out = append(out, h.ID)
		}
		return out
	}
	cases := []struct {
		name string
		req  ops.QueryRequest
		want []point.ID
	}{
		{"nearest vector", ops.QueryRequest{Nearest: &ops.NearestQuery{Vector: []float32{3.9, 0}}, Limit: 3}, nums(4, 3, 5)},
		{"nearest point, itself left out", ops.QueryRequest{Nearest: &ops.NearestQuery{ID: ptr(point.NumID(2))}, Limit: 2, Offset: 1}, nums(3, 0)},
		{"id order", ops.QueryRequest{Limit: 2, Offset: 3}, nums(3, 4)},
		{"id order with a filter", ops.QueryRequest{Limit: 10, Filter: mustFilter(t, `{"must":[{"key":"i","range":{"gte":4}}]}`)}, nums(4, 5)},
		{"offset past the end", ops.QueryRequest{Limit: 2, Offset: 9}, nil},
		{"huge limit and offset", ops.QueryRequest{Limit: 1 << 62, Offset: 1 << 62}, nil},
	}
	for _, c2 := range cases {
		t.Run(c2.name, func(t *testing.T) {
			hits, err := c.Query(bg, c2.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(hits); !slices.Equal(got, c2.want) {
				t.Fatalf("ids %v, want %v", got, c2.want)
			}
			if c2.req.Nearest == nil {
				for _, h := range hits {
					if h.Score != 0 || h.Payload != nil {
						t.Fatalf("listed point %v with score %v and payload %v", h.ID, h.Score, h.Payload)
					}
				}
			}
		})
	}
	hits, err := c.Query(bg, ops.QueryRequest{Limit: 1, WithPayload: ops.PayloadSelector{Enable: true}, WithVector: ops.VectorSelector{Enable: true}})
	if err != nil || len(hits) != 1 || hits[0].Payload["i"] == nil || len(hits[0].Vectors[""]) != 2 {
		t.Fatalf("query with payload and vector: %+v, %v", hits, err)
	}
}

// TestUpdateRefusesInvalidOperations: an operation the vocabulary refuses
// (as the gRPC API might build one) is refused before it reaches the WAL,
// and a schema is refused as the REST API reports it: a rule broken is a
// validation error, a language the index does not know a format error.
func TestUpdateRefusesInvalidOperations(t *testing.T) {
	c, _ := openCollection(t, `{"vectors":{"size":2,"distance":"Dot"}}`)
	before := c.firstShard().Applied()
	cases := []struct {
		name  string
		op    *ops.Operation
		check func(error) bool
	}{
		{"a field the kind does not use", &ops.Operation{Kind: ops.Delete, Keys: []string{"a"}},
			func(err error) bool { return point.KindOf(err) == point.KindBadInput }},
		{"an unknown kind", &ops.Operation{Kind: "merge"},
			func(err error) bool { return point.KindOf(err) == point.KindBadInput }},
		{"an integer index without lookup and range", &ops.Operation{Kind: ops.CreateIndex, Key: "n",
			Schema: &ops.FieldSchema{Type: ops.IntegerField, HasParams: true, Lookup: ptr(false), Range: ptr(false)}},
			func(err error) bool {
				var ve *ValidationError
				return errors.As(err, &ve) && ve.Error() == "field_schema.lookup: the 'lookup' and 'range' capabilities can't be both disabled"
			}},
		{"an unknown type", &ops.Operation{Kind: ops.CreateIndex, Key: "n", Schema: &ops.FieldSchema{Type: "nope"}},
			func(err error) bool {
				var fe *FormatError
				return errors.As(err, &fe) && fe.Msg == "data did not match any variant of untagged enum PayloadFieldSchema"
			}},
		{"a stopword language the index does not know", &ops.Operation{Kind: ops.CreateIndex, Key: "t",
			Schema: &ops.FieldSchema{Type: ops.TextField, HasParams: true, Stopwords: &ops.Stopwords{Language: "klingon"}}},
			func(err error) bool {
				var fe *FormatError
				return errors.As(err, &fe) && fe.Msg == "data did not match any variant of untagged enum PayloadFieldSchema"
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Update(context.Background(), tc.op, true)
			if err == nil || !tc.check(err) {
				t.Fatalf("error %T %v", err, err)
			}
			if _, err := c.UpdateBatch(context.Background(), []*ops.Operation{{Kind: ops.Delete}, tc.op}, true); err == nil || !tc.check(err) {
				t.Fatalf("in a batch: error %T %v", err, err)
			}
		})
	}
	if got := c.firstShard().Applied(); got != before {
		t.Fatalf("%d operations reached the shard", got-before)
	}
}
