package strict

import (
	"context"
	"testing"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// TestMultivectorLimits: multivector_config.max_vectors holds the
// sub-vectors of each multivector written (flattened, of the dimension
// Facts gives), upserts and update_vectors alike, and no other vector; a
// multivector query costs its sub-vectors (Qdrant's similarity_cost), a
// plain query on a multivector one.
func TestMultivectorLimits(t *testing.T) {
	g := configured(t, NewGuard(nil, nil), `{"enabled":true,"multivector_config":{"multi":{"max_vectors":3}}}`)
	up := func(name string, floats int) *ops.Operation {
		return &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(1), Vectors: point.Vectors{name: make([]float32, floats)}}}}
	}
	vecs := func(floats int) *ops.Operation {
		return &ops.Operation{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{{ID: point.NumID(1), Vectors: point.Vectors{"multi": make([]float32, floats)}}}}
	}
	for _, c := range []struct {
		name string
		op   *ops.Operation
		want string
	}{
		{"upsert under", up("multi", 6), ""},
		{"upsert over", up("multi", 8), "Multivector 'multi' has a limit of 3 vectors, but 4 were provided!"},
		{"another vector", up("plain", 80), ""},
		{"update_vectors under", vecs(2), ""},
		{"update_vectors over", vecs(10), "Multivector 'multi' has a limit of 3 vectors, but 5 were provided!"},
	} {
		err := g.Update(context.Background(), facts{}, []*ops.Operation{c.op})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || err.Error() != c.want || point.KindOf(err) != point.KindBadRequest):
			t.Errorf("%s: %v, want bad request %q", c.name, err, c.want)
		}
	}
	for _, c := range []struct {
		using  string
		floats int
		want   uint64
	}{{"multi", 2, 1}, {"multi", 6, 3}, {"plain", 6, 1}} {
		if got := searchCost(facts{}, c.using, make([]float32, c.floats), nil, nil); got != c.want {
			t.Errorf("query of %d floats on %q: cost %d, want %d", c.floats, c.using, got, c.want)
		}
	}
}
