package p2p

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// engineReplicas serves shard 0 of collection "c" from a real collection,
// as the node will: the test of what crosses the wire with the engine's
// own values and errors.
type engineReplicas struct{ c *collection.Collection }

func (e engineReplicas) check(coll string, shard collection.ShardID) error {
	if coll != "c" {
		return point.CollectionNotFound(coll)
	}
	if shard != 0 {
		return point.Errorf(point.KindNotFound, "Shard %d of collection `c` is not on this peer", shard)
	}
	return nil
}

func (e engineReplicas) Update(ctx context.Context, coll string, shard collection.ShardID, op *ops.Operation, opts collection.RemoteUpdate) (collection.RemoteUpdateResult, error) {
	if err := e.check(coll, shard); err != nil {
		return collection.RemoteUpdateResult{}, err
	}
	res, err := e.c.Update(ctx, op, opts.Wait)
	if err != nil {
		return collection.RemoteUpdateResult{}, err
	}
	return collection.RemoteUpdateResult{OperationID: res.OperationID, Completed: res.Status == collection.Completed}, nil
}

func (e engineReplicas) Search(ctx context.Context, coll string, shard collection.ShardID, req ops.SearchRequest) ([]collection.ScoredPoint, error) {
	if err := e.check(coll, shard); err != nil {
		return nil, err
	}
	return e.c.Search(ctx, req)
}

func (e engineReplicas) Scroll(ctx context.Context, coll string, shard collection.ShardID, req ops.ScrollRequest) ([]collection.Record, *point.ID, error) {
	if err := e.check(coll, shard); err != nil {
		return nil, nil, err
	}
	return e.c.Scroll(ctx, req)
}

func (e engineReplicas) Count(ctx context.Context, coll string, shard collection.ShardID, req ops.CountRequest) (int, error) {
	if err := e.check(coll, shard); err != nil {
		return 0, err
	}
	return e.c.Count(ctx, req)
}

func (e engineReplicas) Retrieve(ctx context.Context, coll string, shard collection.ShardID, ids []point.ID, wp ops.PayloadSelector, wv ops.VectorSelector) ([]collection.Record, error) {
	if err := e.check(coll, shard); err != nil {
		return nil, err
	}
	return e.c.Retrieve(ctx, ids, wp, wv)
}

func (e engineReplicas) Facet(ctx context.Context, coll string, shard collection.ShardID, req ops.FacetRequest) ([]collection.FacetHit, error) {
	if err := e.check(coll, shard); err != nil {
		return nil, err
	}
	return e.c.Facet(ctx, req)
}

// TestPointsAgainstTheEngine: a collection written through the Points
// service (upserts, a payload index) answers every read through the
// service exactly as it answers the same read locally (scores bit for
// bit, vectors, multivectors, sparse vectors, payloads, order values), and
// refuses a bad read remotely with the kind and text of the local refusal.
func TestPointsAgainstTheEngine(t *testing.T) {
	var req collection.CreateRequest
	body := `{"vectors":{"img":{"size":4,"distance":"Cosine"},"multi":{"size":2,"distance":"Dot","multivector_config":{"comparator":"max_sim"}}},
		"sparse_vectors":{"text":{}}}`
	if err := point.DecodeJSON([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	cfg, err := req.Build(collection.QdrantDefaults())
	if err != nil {
		t.Fatal(err)
	}
	c, err := collection.Open(nil, filepath.Join(t.TempDir(), "c"), "c", cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	remote, _, _ := pointsPeer(t, engineReplicas{c}, RemoteConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	colors := []string{"red", "green", "blue"}
	schema, err := ops.ParseFieldSchema([]byte(`"keyword"`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Update(ctx, "c", 0, &ops.Operation{Kind: ops.CreateIndex, Key: "color", Schema: &schema}, collection.RemoteUpdate{Wait: true}); err != nil {
		t.Fatal(err)
	}
	var pts []ops.PointStruct
	for i := range 200 {
		p := ops.PointStruct{ID: point.NumID(uint64(i)),
			Vectors: point.Vectors{"img": {rng.Float32() - 0.5, rng.Float32(), rng.Float32(), rng.Float32()}},
			Payload: point.Payload{"color": colors[rng.IntN(3)], "n": json.Number(fmt.Sprint(i)), "f": json.Number("0.10000000000000001")}}
		if i%2 == 0 {
			p.Vectors["multi"] = []float32{rng.Float32(), rng.Float32(), rng.Float32(), rng.Float32(), rng.Float32(), rng.Float32()}
		}
		if i%3 == 0 {
			p.Sparse = point.SparseVectors{"text": {Indices: []uint32{uint32(rng.IntN(50)), 100 + uint32(rng.IntN(50))}, Values: []float32{rng.Float32(), rng.Float32()}}}
		}
		pts = append(pts, p)
	}
	res, err := remote.Update(ctx, "c", 0, &ops.Operation{Kind: ops.Upsert, Points: pts}, collection.RemoteUpdate{Wait: true})
	if err != nil || !res.Completed {
		t.Fatalf("upsert through the service: %+v, %v", res, err)
	}

	all := ops.PayloadSelector{Enable: true}
	vecs := ops.VectorSelector{Enable: true}
	red := mustFilter(t, `{"must":[{"key":"color","match":{"value":"red"}}]}`)
	same := func(what string, local, remote any, lerr, rerr error) {
		t.Helper()
		if lerr != nil || rerr != nil {
			t.Fatalf("%s: local %v, remote %v", what, lerr, rerr)
		}
		if l, r := reflect.ValueOf(local), reflect.ValueOf(remote); l.Kind() == reflect.Slice && l.Len() == 0 && r.Len() == 0 {
			return // nil or empty: the same answer
		}
		if !reflect.DeepEqual(local, remote) {
			t.Fatalf("%s: remote answer differs:\n local %v\nremote %v", what, local, remote)
		}
	}
	for _, s := range []ops.SearchRequest{
		{Using: "img", Vector: []float32{0.1, 0.2, 0.3, 0.4}, Limit: 10, WithPayload: all, WithVector: vecs},
		{Using: "img", Vector: []float32{-1, 0, 1, 0.5}, Filter: red, Limit: 5, Offset: 2, ScoreThreshold: ptr(float32(-0.5)), Params: ops.SearchParams{Exact: true}},
		{Using: "multi", Vector: []float32{1, 0, 0, 1}, Limit: 7, WithVector: ops.VectorSelector{Enable: true, Names: []string{"multi"}}},
		{Using: "text", Sparse: ptr(pts[0].Sparse["text"]), Limit: 20, WithVector: vecs},
		{Using: "img", QueryID: ptr(point.NumID(4)), Limit: 3},
	} {
		lh, lerr := c.Search(ctx, s)
		rh, rerr := remote.Search(ctx, "c", 0, s)
		same(fmt.Sprintf("search %s", s.Using), lh, rh, lerr, rerr)
		if len(rh) == 0 {
			t.Fatalf("search %s found nothing", s.Using)
		}
	}
	for _, s := range []ops.ScrollRequest{
		{Limit: 15, WithPayload: all, WithVector: vecs},
		{Filter: red, Offset: ptr(point.NumID(50)), Limit: 10, WithPayload: ops.PayloadSelector{Enable: true, Include: []point.Path{point.MustParsePath("n")}}},
	} {
		lr, lnext, lerr := c.Scroll(ctx, s)
		rr, rnext, rerr := remote.Scroll(ctx, "c", 0, s)
		same("scroll", lr, rr, lerr, rerr)
		same("scroll next", lnext, rnext, nil, nil)
	}
	for _, cr := range []ops.CountRequest{{Exact: true}, {Filter: red, Exact: true}, {Filter: red}} {
		ln, lerr := c.Count(ctx, cr)
		rn, rerr := remote.Count(ctx, "c", 0, cr)
		same("count", ln, rn, lerr, rerr)
	}
	ids := []point.ID{point.NumID(3), point.NumID(1000), point.NumID(0), point.NumID(3)}
	lr, lerr := c.Retrieve(ctx, ids, all, vecs)
	rr, rerr := remote.Retrieve(ctx, "c", 0, ids, all, vecs)
	same("retrieve", lr, rr, lerr, rerr)
	lf, lerr := c.Facet(ctx, ops.FacetRequest{Key: "color", Limit: 10})
	rf, rerr := remote.Facet(ctx, "c", 0, ops.FacetRequest{Key: "color", Limit: 10})
	same("facet", lf, rf, lerr, rerr)

	// Refusals read like local ones.
	for _, s := range []ops.SearchRequest{
		{Using: "nope", Vector: []float32{1, 2, 3, 4}, Limit: 1},
		{Using: "img", Vector: []float32{1, 2}, Limit: 1},
	} {
		_, lerr := c.Search(ctx, s)
		_, rerr := remote.Search(ctx, "c", 0, s)
		if lerr == nil || point.KindOf(lerr) != point.KindOf(rerr) || point.DescriptionOf(lerr) != point.DescriptionOf(rerr) {
			t.Fatalf("search %+v: local %v (%v), remote %v (%v)", s, lerr, point.KindOf(lerr), rerr, point.KindOf(rerr))
		}
	}
	_, lerr = c.Facet(ctx, ops.FacetRequest{Key: "n", Limit: 1})
	_, rerr = remote.Facet(ctx, "c", 0, ops.FacetRequest{Key: "n", Limit: 1})
	if lerr == nil || point.KindOf(lerr) != point.KindOf(rerr) || point.DescriptionOf(lerr) != point.DescriptionOf(rerr) {
		t.Fatalf("facet without an index: local %v, remote %v", lerr, rerr)
	}
	_, uerr := remote.Update(ctx, "c", 0, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(1), Vectors: point.Vectors{"img": {1}}}}}, collection.RemoteUpdate{Wait: true})
	_, luerr := c.Update(ctx, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(1), Vectors: point.Vectors{"img": {1}}}}}, true)
	if luerr == nil || point.KindOf(luerr) != point.KindOf(uerr) || point.DescriptionOf(luerr) != point.DescriptionOf(uerr) {
		t.Fatalf("bad upsert: local %v, remote %v", luerr, uerr)
	}
	if _, err := remote.Count(ctx, "other", 0, ops.CountRequest{}); point.KindOf(err) != point.KindNotFound {
		t.Fatalf("count of another collection: %v", err)
	}
}
