package collection

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/testkit"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openCollection builds a config from a create request body and opens a
// collection on it in a fresh directory; it is closed when the test ends.
func openCollection(t testing.TB, body string) (*Collection, string) {
	t.Helper()
	var req CreateRequest
	if err := point.DecodeJSON([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	cfg, err := req.Build(testDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if req.ShardNumber == nil {
		cfg.Params.ShardNumber = uint32(testShards)
	}
	dir := filepath.Join(t.TempDir(), "c")
	c, err := Open(nil, dir, "c", cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, dir
}

func upsert(t testing.TB, c *Collection, pts ...ops.PointStruct) {
	t.Helper()
	res, err := c.Update(context.Background(), &ops.Operation{Kind: ops.Upsert, Points: pts}, true)
	if err != nil {
		t.Fatalf("upsert: %v", err)
	}
	if res.Status != Completed {
		t.Fatalf("status %q, want completed", res.Status)
	}
}

// bg is the context of the reads that are never cancelled.
var bg = context.Background()

// must is the answer of a read under bg, which cannot fail.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func mustFilter(t testing.TB, js string) *filter.Filter {
	t.Helper()
	f, err := filter.Parse([]byte(js))
	if err != nil {
		t.Fatalf("filter %s: %v", js, err)
	}
	return f
}

func recIDs(recs []Record) []point.ID {
	out := make([]point.ID, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func hitIDs(hits []ScoredPoint) []point.ID {
	out := make([]point.ID, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func nums(ns ...uint64) []point.ID {
	out := make([]point.ID, len(ns))
	for i, n := range ns {
		out[i] = point.NumID(n)
	}
	return out
}

const namedBody = `{"vectors":{"img":{"size":3,"distance":"Euclid"},"text":{"size":2,"distance":"Cosine"}}}`

func TestUpdateValidation(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	single, _ := openCollection(t, `{"vectors":{"size":4,"distance":"Dot"}}`)
	named, _ := openCollection(t, namedBody)
	upsert(t, single, ops.PointStruct{ID: point.NumID(1), Vectors: point.Vectors{"": {1, 2, 3, 4}}})
	upsert(t, named, ops.PointStruct{ID: point.NumID(1), Vectors: point.Vectors{"img": {1, 2, 3}}})

	cases := []struct {
		name string
		c    *Collection
		op   *ops.Operation
		want string
	}{
		{"dimension too small", single, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(2), Vectors: point.Vectors{"": {1, 2, 3}}}}},
			"Vector dimension error: expected dim: 4, got 3"},
		{"dimension too large", single, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(2), Vectors: point.Vectors{"": {1, 2, 3, 4, 5}}}}},
			"Vector dimension error: expected dim: 4, got 5"},
		{"named vector on an unnamed collection", single, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(2), Vectors: point.Vectors{"img": {1, 2, 3}}}}},
			"Not existing vector name error: img"},
		{"unknown vector name", named, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(2), Vectors: point.Vectors{"audio": {1}}}}},
			"Not existing vector name error: audio"},
		{"unnamed vector on a named collection", named, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(2), Vectors: point.Vectors{"": {1, 2}}}}},
			"Not existing vector name error: "},
		{"named dimension", named, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(2), Vectors: point.Vectors{"img": {1, 2, 3}, "text": {1, 2, 3}}}}},
			"Vector dimension error: expected dim: 2, got 3"},
		{"NaN", single, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(2), Vectors: point.Vectors{"": {1, nan, 3, 4}}}}},
			"vector component 1 is NaN: only finite numbers are allowed"},
		{"Inf", named, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(2), Vectors: point.Vectors{"text": {inf, 0}}}}},
			"vector component 0 is -Inf: only finite numbers are allowed"},
		{"bad point after good ones", single, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{
			{ID: point.NumID(2), Vectors: point.Vectors{"": {1, 2, 3, 4}}},
			{ID: point.NumID(3), Vectors: point.Vectors{"": {1}}},
		}}, "Vector dimension error: expected dim: 4, got 1"},
		{"update_vectors dimension", named, &ops.Operation{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{{ID: point.NumID(1), Vectors: point.Vectors{"img": {1}}}}},
			"Vector dimension error: expected dim: 3, got 1"},
		{"update_vectors name", named, &ops.Operation{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{{ID: point.NumID(1), Vectors: point.Vectors{"x": {1}}}}},
			"Not existing vector name error: x"},
		{"update_vectors NaN", named, &ops.Operation{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{{ID: point.NumID(1), Vectors: point.Vectors{"img": {0, 0, nan}}}}},
			"vector component 2 is NaN: only finite numbers are allowed"},
		{"delete_vectors name", named, &ops.Operation{Kind: ops.DeleteVectors, IDs: nums(1), Keys: []string{"img", "x"}},
			"Not existing vector name error: x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := must(tc.c.Count(bg, ops.CountRequest{Exact: true}))
			_, err := tc.c.Update(context.Background(), tc.op, true)
			if point.KindOf(err) != point.KindBadInput || point.DescriptionOf(err) != tc.want {
				t.Fatalf("err = %v (kind %v), want bad input %q", err, point.KindOf(err), tc.want)
			}
			if must(tc.c.Count(bg, ops.CountRequest{Exact: true})) != before {
				t.Fatal("a rejected update changed the collection")
			}
		})
	}
	// Rejected updates never reached the WAL: the next operation id
	// follows the one accepted upsert.
	for _, c := range []*Collection{single, named} {
		res, err := c.Update(context.Background(), &ops.Operation{Kind: ops.Delete, IDs: nums(99)}, false)
		if err != nil || res.OperationID != 1 || res.Status != Acknowledged {
			t.Fatalf("next update: %+v %v, want operation 1 acknowledged", res, err)
		}
	}
}

func TestCosineNormalisedOnWrite(t *testing.T) {
	c, _ := openCollection(t, `{"vectors":{"c":{"size":2,"distance":"Cosine"},"d":{"size":2,"distance":"Dot"}}}`)
	upsert(t, c,
		ops.PointStruct{ID: point.NumID(1), Vectors: point.Vectors{"c": {3, 4}, "d": {3, 4}}},
		ops.PointStruct{ID: point.NumID(2), Vectors: point.Vectors{"c": {0, 0}, "d": {0, 0}}},
	)
	if _, err := c.Update(context.Background(), &ops.Operation{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{
		{ID: point.NumID(2), Vectors: point.Vectors{"c": {0, -10}}},
	}}, true); err != nil {
		t.Fatal(err)
	}
	recs, err := c.Retrieve(bg, nums(1, 2), ops.PayloadSelector{}, ops.VectorSelector{Enable: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[point.ID]point.Vectors{
		point.NumID(1): {"c": {0.6, 0.8}, "d": {3, 4}},
		point.NumID(2): {"c": {0, -1}, "d": {0, 0}},
	}
	for _, r := range recs {
		for name, w := range want[r.ID] {
			g := r.Vectors[name]
			for i := range w {
				if math.Abs(float64(g[i]-w[i])) > 1e-6 {
					t.Fatalf("point %v vector %q = %v, want %v", r.ID, name, g, w)
				}
			}
		}
	}
	// The query is normalised too, so cosine scores are in [-1, 1].
	hits, err := c.Search(bg, ops.SearchRequest{Using: "c", Vector: []float32{30, 40}, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].ID != point.NumID(1) || math.Abs(float64(hits[0].Score-1)) > 1e-6 || math.Abs(float64(hits[1].Score+0.8)) > 1e-6 {
		t.Fatalf("cosine hits = %+v", hits)
	}
	hits, err = c.Search(bg, ops.SearchRequest{Using: "d", Vector: []float32{1, 1}, Limit: 1})
	if err != nil || hits[0].Score != 7 {
		t.Fatalf("dot hits = %+v, %v", hits, err)
	}
}

// readFixture is a collection of ten points: ids 1..9 and a UUID, payload
// {"n": id, "even": bool, "nested": {...}}, vector img = (id, 0, 0) and a
// text vector on even ids only.
func readFixture(t *testing.T) *Collection {
	c, _ := openCollection(t, namedBody)
	var pts []ops.PointStruct
	for i := uint64(1); i <= 9; i++ {
		v := point.Vectors{"img": {float32(i), 0, 0}}
		if i%2 == 0 {
			v["text"] = []float32{1, float32(i)}
		}
		p, err := point.DecodePayload([]byte(fmt.Sprintf(`{"n":%d,"even":%v,"nested":{"a":%d,"b":"x"}}`, i, i%2 == 0, i)))
		if err != nil {
			t.Fatal(err)
		}
		pts = append(pts, ops.PointStruct{ID: point.NumID(i), Vectors: v, Payload: p})
	}
	u, _ := point.ParseUUID(fixtureUUID)
	pts = append(pts, ops.PointStruct{ID: u, Vectors: point.Vectors{"img": {0, 0, 0}}})
	upsert(t, c, pts...)
	return c
}

const fixtureUUID = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"

func TestRetrieve(t *testing.T) {
	c := readFixture(t)
	u, _ := point.ParseUUID(fixtureUUID)
	recs, err := c.Retrieve(bg, []point.ID{point.NumID(5), u, point.NumID(42), point.NumID(2), point.NumID(5)},
		ops.PayloadSelector{Enable: true, Include: []point.Path{point.MustParsePath("nested.a")}},
		ops.VectorSelector{Enable: true, Names: []string{"text"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := recIDs(recs), []point.ID{point.NumID(5), u, point.NumID(2)}; !slices.Equal(got, want) {
		t.Fatalf("ids = %v, want %v (asked order, missing skipped, once each)", got, want)
	}
	if got, _ := json.Marshal(recs[0].Payload); string(got) != `{"nested":{"a":5}}` {
		t.Fatalf("include payload = %s", got)
	}
	if got, _ := json.Marshal(recs[1].Payload); string(got) != `{}` {
		t.Fatalf("payload of a point without one = %s, want {}", got)
	}
	if len(recs[0].Vectors) != 0 || !slices.Equal(recs[2].Vectors["text"], []float32{1 / float32(math.Sqrt(5)), 2 / float32(math.Sqrt(5))}) {
		t.Fatalf("vectors = %v / %v", recs[0].Vectors, recs[2].Vectors)
	}
	recs, _ = c.Retrieve(bg, nums(3), ops.PayloadSelector{Enable: true, Exclude: []point.Path{point.MustParsePath("nested")}}, ops.VectorSelector{})
	if got, _ := json.Marshal(recs[0].Payload); string(got) != `{"even":false,"n":3}` || recs[0].Vectors != nil {
		t.Fatalf("exclude payload = %s, vectors %v", got, recs[0].Vectors)
	}
	recs, _ = c.Retrieve(bg, nums(3), ops.PayloadSelector{}, ops.VectorSelector{})
	if recs[0].Payload != nil || recs[0].Vectors != nil || recs[0].Version != 0 {
		t.Fatalf("nothing requested: %+v", recs[0])
	}
	if _, err := c.Retrieve(bg, nums(3), ops.PayloadSelector{}, ops.VectorSelector{Enable: true, Names: []string{"nope"}}); point.DescriptionOf(err) != "Not existing vector name error: nope" {
		t.Fatalf("unknown vector name: %v", err)
	}
}

func TestScrollAndCount(t *testing.T) {
	c := readFixture(t)
	u, _ := point.ParseUUID(fixtureUUID)
	even := mustFilter(t, `{"must":[{"key":"even","match":{"value":true}}]}`)
	from := point.NumID(4)
	cases := []struct {
		name     string
		req      ops.ScrollRequest
		want     []point.ID
		wantNext *point.ID
	}{
		{"all", ops.ScrollRequest{Limit: 100}, append(nums(1, 2, 3, 4, 5, 6, 7, 8, 9), u), nil},
		{"page", ops.ScrollRequest{Limit: 3}, nums(1, 2, 3), ptr(point.NumID(4))},
		{"offset", ops.ScrollRequest{Offset: &from, Limit: 2}, nums(4, 5), ptr(point.NumID(6))},
		{"filter", ops.ScrollRequest{Filter: even, Limit: 3}, nums(2, 4, 6), ptr(point.NumID(8))},
		{"filter and offset", ops.ScrollRequest{Filter: even, Offset: &from, Limit: 10}, nums(4, 6, 8), nil},
		{"numbers then uuid", ops.ScrollRequest{Offset: ptr(point.NumID(9)), Limit: 10}, []point.ID{point.NumID(9), u}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			recs, next, err := c.Scroll(bg, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(recIDs(recs), tc.want) {
				t.Fatalf("ids = %v, want %v", recIDs(recs), tc.want)
			}
			if (next == nil) != (tc.wantNext == nil) || (next != nil && *next != *tc.wantNext) {
				t.Fatalf("next = %v, want %v", next, tc.wantNext)
			}
		})
	}
	if n := must(c.Count(bg, ops.CountRequest{Exact: true})); n != 10 {
		t.Fatalf("Count = %d", n)
	}
	if n := must(c.Count(bg, ops.CountRequest{Filter: even, Exact: true})); n != 4 {
		t.Fatalf("Count(even) = %d", n)
	}
	if n := must(c.Count(bg, ops.CountRequest{Filter: mustFilter(t, `{"must":[{"key":"n","range":{"gte":3,"lt":7}}]}`), Exact: true})); n != 4 {
		t.Fatalf("Count(range) = %d", n)
	}
	info, err := c.Info()
	if err != nil || info.PointsCount != 10 || info.Status != "green" {
		t.Fatalf("info = %+v, %v", info, err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestSearch(t *testing.T) {
	c := readFixture(t)
	u, _ := point.ParseUUID(fixtureUUID)
	half := float32(2.5)
	cases := []struct {
		name string
		req  ops.SearchRequest
		want []point.ID
	}{
		{"nearest first", ops.SearchRequest{Using: "img", Vector: []float32{4.2, 0, 0}, Limit: 3}, nums(4, 5, 3)},
		{"offset", ops.SearchRequest{Using: "img", Vector: []float32{4.2, 0, 0}, Limit: 2, Offset: 2}, nums(3, 6)},
		{"offset past the end", ops.SearchRequest{Using: "img", Vector: []float32{0, 0, 0}, Limit: 5, Offset: 10}, nil},
		{"threshold", ops.SearchRequest{Using: "img", Vector: []float32{0, 0, 0}, Limit: 10, ScoreThreshold: &half}, []point.ID{u, point.NumID(1), point.NumID(2)}},
		{"filter", ops.SearchRequest{Using: "img", Vector: []float32{4.2, 0, 0}, Limit: 3, Filter: mustFilter(t, `{"must_not":[{"key":"even","match":{"value":true}}]}`)}, nums(5, 3, 7)},
		{"only points with the vector", ops.SearchRequest{Using: "text", Vector: []float32{1, 100}, Limit: 10}, nums(8, 6, 4, 2)},
		{"by id excludes the point", ops.SearchRequest{Using: "img", QueryID: ptr(point.NumID(4)), Limit: 2}, nums(3, 5)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hits, err := c.Search(bg, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(hitIDs(hits), tc.want) {
				t.Fatalf("ids = %v, want %v", hitIDs(hits), tc.want)
			}
		})
	}

	hits, err := c.Search(bg, ops.SearchRequest{Using: "img", Vector: []float32{4, 0, 0}, Limit: 1,
		WithPayload: ops.PayloadSelector{Enable: true}, WithVector: ops.VectorSelector{Enable: true}})
	if err != nil {
		t.Fatal(err)
	}
	if h := hits[0]; h.ID != point.NumID(4) || h.Score != 0 || h.Payload["n"] != json.Number("4") || !slices.Equal(h.Vectors["img"], []float32{4, 0, 0}) || h.Vectors["text"] == nil {
		t.Fatalf("hit = %+v", h)
	}

	errCases := []struct {
		name string
		req  ops.SearchRequest
		kind point.Kind
		want string
	}{
		{"unknown vector", ops.SearchRequest{Using: "x", Vector: []float32{1}, Limit: 1}, point.KindBadInput, "Not existing vector name error: x"},
		{"default vector on a named collection", ops.SearchRequest{Vector: []float32{1, 2, 3}, Limit: 1}, point.KindBadInput, "Not existing vector name error: "},
		{"dimension", ops.SearchRequest{Using: "img", Vector: []float32{1, 2}, Limit: 1}, point.KindBadInput, "Vector dimension error: expected dim: 3, got 2"},
		{"NaN query", ops.SearchRequest{Using: "img", Vector: []float32{1, float32(math.NaN()), 0}, Limit: 1}, point.KindBadInput, "vector component 1 is NaN: only finite numbers are allowed"},
		{"unknown with_vector", ops.SearchRequest{Using: "img", Vector: []float32{1, 2, 3}, Limit: 1, WithVector: ops.VectorSelector{Enable: true, Names: []string{"y"}}}, point.KindBadInput, "Not existing vector name error: y"},
		{"missing query point", ops.SearchRequest{Using: "img", QueryID: ptr(point.NumID(77)), Limit: 1}, point.KindNotFound, "No point with id 77 found"},
		{"query point without the vector", ops.SearchRequest{Using: "text", QueryID: ptr(point.NumID(3)), Limit: 1}, point.KindNotFound, "No point with id 3 found"},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Search(bg, tc.req)
			if point.KindOf(err) != tc.kind || point.DescriptionOf(err) != tc.want {
				t.Fatalf("err = %v (kind %v), want %q", err, point.KindOf(err), tc.want)
			}
		})
	}
}

func TestReopenKeepsPoints(t *testing.T) {
	c, dir := openCollection(t, `{"vectors":{"size":2,"distance":"Cosine"}}`)
	for i := range uint64(50) {
		if _, err := c.Update(context.Background(), &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{
			{ID: point.NumID(i), Vectors: point.Vectors{"": {float32(i), 1}}, Payload: point.Payload{"i": json.Number(fmt.Sprint(i))}},
		}}, i%10 == 9); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := c.Config()
	if err != nil {
		t.Fatal(err)
	}
	// With several shards, a wait on the last update waits for its own
	// shard only: the others apply their unwaited updates on their own.
	var before []Record
	if err := testkit.Poll(10*time.Second, func() error {
		before, _, _ = c.Scroll(bg, ops.ScrollRequest{Limit: 100, WithPayload: ops.PayloadSelector{Enable: true}, WithVector: ops.VectorSelector{Enable: true}})
		if len(before) != 50 {
			return fmt.Errorf("%d points applied", len(before))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2, err := Open(nil, dir, "c", cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	after, _, _ := c2.Scroll(bg, ops.ScrollRequest{Limit: 100, WithPayload: ops.PayloadSelector{Enable: true}, WithVector: ops.VectorSelector{Enable: true}})
	a, _ := json.Marshal(before)
	b, _ := json.Marshal(after)
	if len(after) != 50 || string(a) != string(b) {
		t.Fatalf("reopened collection differs: %d points", len(after))
	}
	if c2.Name() != "c" || c2.MultiVector() {
		t.Fatalf("name %q multi %v", c2.Name(), c2.MultiVector())
	}
}

func TestSetConfig(t *testing.T) {
	c, _ := openCollection(t, `{"vectors":{"size":2,"distance":"Dot"}}`)
	cfg, _ := c.Config()
	cfg.HnswConfig.M = 99 // a copy: the collection is unaffected
	if now, _ := c.Config(); now.HnswConfig.M == 99 {
		t.Fatal("Config returned the collection's own config")
	}
	c.SetConfig(cfg)
	if now, _ := c.Config(); now.HnswConfig.M != 99 {
		t.Fatal("SetConfig did not take")
	}
}
