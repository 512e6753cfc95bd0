package strict

import (
	"context"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

func sparseOf(n int) point.SparseVector {
	v := point.SparseVector{}
	for i := range n {
		v.Indices = append(v.Indices, uint32(i))
		v.Values = append(v.Values, 1)
	}
	return v
}

// TestSparseWritesHeldToSparseConfig: upsert and update_vectors hold each
// point's sparse vectors to sparse_config.max_length; a point under it,
// and a vector of another name, pass.
func TestSparseWritesHeldToSparseConfig(t *testing.T) {
	g := configured(t, NewGuard(newFakeClock().now, nil), `{"enabled":true,"sparse_config":{"s":{"max_length":3}}}`)
	up := func(n int, name string) *ops.Operation {
		return &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{
			{ID: point.NumID(1), Sparse: point.SparseVectors{"s": sparseOf(1)}},
			{ID: point.NumID(2), Sparse: point.SparseVectors{name: sparseOf(n)}}}}
	}
	vecs := func(n int) *ops.Operation {
		return &ops.Operation{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{{ID: point.NumID(1), Sparse: point.SparseVectors{"s": sparseOf(n)}}}}
	}
	for _, c := range []struct {
		name string
		op   *ops.Operation
		want string
	}{
		{"upsert under", up(3, "s"), ""},
		{"upsert another name", up(30, "t"), ""},
		{"upsert over", up(4, "s"), "Sparse vector 's' has a limit of 3 indices, but 4 were provided!"},
		{"update_vectors under", vecs(3), ""},
		{"update_vectors over", vecs(5), "Sparse vector 's' has a limit of 3 indices, but 5 were provided!"},
	} {
		err := g.Update(context.Background(), facts{}, []*ops.Operation{c.op})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || err.Error() != c.want || point.KindOf(err) != point.KindBadRequest):
			t.Errorf("%s: %v, want bad request %q", c.name, err, c.want)
		}
	}
}

// TestSparseSearchCost: a sparse query costs a unit per 64 dimensions,
// rounded up (Qdrant's similarity_cost), plus its filter's conditions.
func TestSparseSearchCost(t *testing.T) {
	for _, c := range []struct {
		nnz  int
		want uint64
	}{{0, 0}, {1, 1}, {64, 1}, {65, 2}, {200, 4}} {
		q := sparseOf(c.nnz)
		if got := searchCost(nil, "s", nil, &q, nil); got != c.want {
			t.Errorf("%d dimensions: cost %d, want %d", c.nnz, got, c.want)
		}
	}
	if got := searchCost(nil, "", []float32{1}, nil, nil); got != 1 {
		t.Errorf("dense query: cost %d", got)
	}
	// Through the guard: a budget of 3 takes one 130-dimension query, not two.
	clk := newFakeClock()
	g := configured(t, NewGuard(clk.now, nil), `{"enabled":true,"read_rate_limit":3}`)
	q := sparseOf(130)
	req := ops.SearchRequest{Using: "s", Sparse: &q, Limit: 1}
	if _, err := g.Search(context.Background(), facts{}, req); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Search(context.Background(), facts{}, req); err == nil || !strings.Contains(err.Error(), "rate limit") {
		t.Fatalf("second 130-dimension query within the minute: %v", err)
	}
}
