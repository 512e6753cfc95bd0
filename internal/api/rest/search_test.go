package rest_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// dataset is a set of points with one vector each, kept by the test to
// compute expected results by brute force.
type dataset struct {
	ids     []string // id JSON texts
	vectors map[string][]float32
	group   map[string]int
}

// expected is one brute-force hit.
type expected struct {
	id    string
	score float64
}

// score computes Qdrant's user-facing score in float64.
func score(dist string, q, v []float32) float64 {
	var s float64
	switch dist {
	case "Cosine":
		return dot64(normalize64(q), normalize64(v))
	case "Dot":
		return dot64(widen(q), widen(v))
	case "Euclid":
		for i := range q {
			d := float64(q[i]) - float64(v[i])
			s += d * d
		}
		return math.Sqrt(s)
	case "Manhattan":
		for i := range q {
			s += math.Abs(float64(q[i]) - float64(v[i]))
		}
		return s
	}
	panic("unknown distance " + dist)
}

func widen(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func normalize64(v []float32) []float64 {
	out := widen(v)
	n := math.Sqrt(dot64(out, out))
	if n == 0 {
		return out
	}
	for i := range out {
		out[i] /= n
	}
	return out
}

func dot64(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func higherIsBetter(dist string) bool { return dist == "Cosine" || dist == "Dot" }

// bruteForce ranks every point passing keep against q, best first, ties by
// id text.
func (d *dataset) bruteForce(dist string, q []float32, keep func(id string) bool) []expected {
	var out []expected
	for _, id := range d.ids {
		if keep != nil && !keep(id) {
			continue
		}
		out = append(out, expected{id, score(dist, q, d.vectors[id])})
	}
	slices.SortStableFunc(out, func(a, b expected) int {
		if higherIsBetter(dist) {
			return cmp.Compare(b.score, a.score)
		}
		return cmp.Compare(a.score, b.score)
	})
	return out
}

const scoreTol = 1e-4

func near(a, b float64) bool { return math.Abs(a-b) <= scoreTol*math.Max(1, math.Abs(b)) }

// checkHits compares a search answer with the brute-force ranking: same
// length, each rank's score matches, and each returned point really has
// the score it is reported with (so ties may come in either order).
func checkHits(t *testing.T, dist string, q []float32, d *dataset, got []record, want []expected) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d hits, want %d\n got: %v\nwant: %v", len(got), len(want), ids(got), want)
	}
	seen := map[string]bool{}
	for i, h := range got {
		id := string(h.ID)
		if seen[id] {
			t.Errorf("rank %d: %s returned twice", i, id)
		}
		seen[id] = true
		if h.Score == nil || h.Version == nil {
			t.Fatalf("rank %d: hit without score or version: %+v", i, h)
		}
		v, ok := d.vectors[id]
		if !ok {
			t.Fatalf("rank %d: unknown id %s", i, id)
		}
		if real := score(dist, q, v); !near(*h.Score, real) {
			t.Errorf("rank %d: %s reported with score %v, brute force gives %v", i, id, *h.Score, real)
		}
		if !near(*h.Score, want[i].score) {
			t.Errorf("rank %d: %s score %v, want %s with %v", i, id, *h.Score, want[i].id, want[i].score)
		}
	}
}

// fill creates a collection of n random points under vector name (""
// for the unnamed vector) and returns the dataset.
func fill(t *testing.T, s *server, coll string, vectors map[string]any, rng *rand.Rand, n, dim int, name string) *dataset {
	t.Helper()
	s.createCollection(coll, map[string]any{"vectors": vectors})
	d := &dataset{vectors: map[string][]float32{}, group: map[string]int{}}
	var pts []pointIn
	for i := range n {
		var id any = i * 3
		if i%10 == 9 {
			id = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		}
		v := randVector(rng, dim)
		key := idText(id)
		d.ids = append(d.ids, key)
		d.vectors[key] = v
		d.group[key] = i % 4
		var vec any = v
		if name != "" {
			vec = map[string]any{name: v}
		}
		pts = append(pts, pointIn{ID: id, Vector: vec, Payload: map[string]any{"group": i % 4, "key": key}})
	}
	s.upsert(coll, pts...)
	return d
}

type queryResult struct {
	Points []record `json:"points"`
}

func (s *server) query(coll string, body any) []record {
	s.t.Helper()
	var res queryResult
	s.ok(http.MethodPost, collPath(coll, "/points/query"), body, &res)
	return res.Points
}

func groupFilter(g int) map[string]any {
	return map[string]any{"must": []any{map[string]any{"key": "group", "match": map[string]any{"value": g}}}}
}

func TestQueryDistances(t *testing.T) {
	rng := seededRand(t)
	s := newServer(t, rest.Options{})
	const n, dim = 150, 8
	for _, dist := range []string{"Cosine", "Dot", "Euclid", "Manhattan"} {
		t.Run(dist, func(t *testing.T) {
			s := s.on(t)
			coll := "q_" + dist
			d := fill(t, s, coll, map[string]any{"size": dim, "distance": dist}, rng, n, dim, "")
			q := randVector(rng, dim)
			all := d.bruteForce(dist, q, nil)

			t.Run("limit", func(t *testing.T) {
				got := s.on(t).query(coll, map[string]any{"query": q, "limit": 10})
				checkHits(t, dist, q, d, got, all[:10])
				for _, h := range got {
					if !absent(h.Payload) || !absent(h.Vector) {
						t.Errorf("%s: payload %s vector %s without with_payload/with_vector", h.ID, h.Payload, h.Vector)
					}
				}
			})
			t.Run("default limit", func(t *testing.T) {
				checkHits(t, dist, q, d, s.on(t).query(coll, map[string]any{"query": q}), all[:10])
			})
			t.Run("offset", func(t *testing.T) {
				checkHits(t, dist, q, d, s.on(t).query(coll, map[string]any{"query": q, "limit": 7, "offset": 5}), all[5:12])
				checkHits(t, dist, q, d, s.on(t).query(coll, map[string]any{"query": q, "limit": 7, "offset": n - 3}), all[n-3:])
				checkHits(t, dist, q, d, s.on(t).query(coll, map[string]any{"query": q, "limit": 7, "offset": n + 10}), nil)
			})
			t.Run("score_threshold", func(t *testing.T) {
				s := s.on(t)
				// The threshold is the server's own score of rank 8, so the
				// comparison is exact: rank 8 stays (>= for similarities,
				// <= for distances) and rank 9 goes.
				top := s.query(coll, map[string]any{"query": q, "limit": 20})
				thr := float32(*top[8].Score)
				got := s.query(coll, map[string]any{"query": q, "limit": 20, "score_threshold": thr})
				checkHits(t, dist, q, d, got, all[:9])
				for _, h := range got {
					if higherIsBetter(dist) && float32(*h.Score) < thr || !higherIsBetter(dist) && float32(*h.Score) > thr {
						t.Errorf("%s: score %v beyond threshold %v", h.ID, *h.Score, thr)
					}
				}
				// A threshold nothing reaches gives nothing.
				none := float32(1e9)
				if !higherIsBetter(dist) {
					none = 0
				}
				if got := s.query(coll, map[string]any{"query": q, "score_threshold": none}); len(got) != 0 {
					t.Errorf("threshold %v: %d hits, want 0", none, len(got))
				}
			})
			t.Run("filter", func(t *testing.T) {
				want := d.bruteForce(dist, q, func(id string) bool { return d.group[id] == 2 })
				got := s.on(t).query(coll, map[string]any{"query": q, "limit": 5, "filter": groupFilter(2)})
				checkHits(t, dist, q, d, got, want[:5])
			})
			t.Run("with payload and vector", func(t *testing.T) {
				got := s.on(t).query(coll, map[string]any{"query": q, "limit": 3, "with_payload": true, "with_vector": true})
				checkHits(t, dist, q, d, got, all[:3])
				for _, h := range got {
					id := string(h.ID)
					assertJSON(t, "payload of "+id, h.Payload, map[string]any{"group": d.group[id], "key": id})
					var vec []float64
					decode(t, h.Vector, &vec)
					want := widen(d.vectors[id])
					if dist == "Cosine" {
						want = normalize64(d.vectors[id]) // stored normalised, as Qdrant does
					}
					for i := range want {
						if !near(vec[i], want[i]) {
							t.Errorf("%s: vector %v, want %v", id, vec, want)
							break
						}
					}
				}
				got = s.on(t).query(coll, map[string]any{"query": q, "limit": 2, "with_payload": []string{"group"}})
				for _, h := range got {
					assertJSON(t, "selected payload", h.Payload, map[string]any{"group": d.group[string(h.ID)]})
				}
			})
			t.Run("by point id", func(t *testing.T) {
				self := d.ids[17]
				want := d.bruteForce(dist, d.vectors[self], func(id string) bool { return id != self })
				got := s.on(t).query(coll, map[string]any{"query": json.RawMessage(self), "limit": 6})
				checkHits(t, dist, d.vectors[self], d, got, want[:6])
				// A UUID id works the same way.
				uself := d.ids[9]
				want = d.bruteForce(dist, d.vectors[uself], func(id string) bool { return id != uself })
				got = s.on(t).query(coll, map[string]any{"query": map[string]any{"nearest": json.RawMessage(uself)}, "limit": 4})
				checkHits(t, dist, d.vectors[uself], d, got, want[:4])
			})
			t.Run("nearest", func(t *testing.T) {
				got := s.on(t).query(coll, map[string]any{"query": map[string]any{"nearest": q}, "limit": 4})
				checkHits(t, dist, q, d, got, all[:4])
			})
			t.Run("legacy search", func(t *testing.T) {
				var got []record
				s.on(t).ok(http.MethodPost, collPath(coll, "/points/search"), map[string]any{"vector": q, "limit": 5, "offset": 2}, &got)
				checkHits(t, dist, q, d, got, all[2:7])
				s.on(t).ok(http.MethodPost, collPath(coll, "/points/search"), map[string]any{"vector": q, "top": 3, "filter": groupFilter(1)}, &got)
				want := d.bruteForce(dist, q, func(id string) bool { return d.group[id] == 1 })
				checkHits(t, dist, q, d, got, want[:3])
			})
		})
	}
}

func TestQueryNamedVectors(t *testing.T) {
	rng := seededRand(t)
	s := newServer(t, rest.Options{})
	s.createCollection("nv", map[string]any{"vectors": map[string]any{
		"text":  map[string]any{"size": 5, "distance": "Cosine"},
		"image": map[string]any{"size": 3, "distance": "Manhattan"},
	}})
	text := &dataset{vectors: map[string][]float32{}}
	image := &dataset{vectors: map[string][]float32{}}
	var pts []pointIn
	for i := range 60 {
		id := idText(i)
		tv, iv := randVector(rng, 5), randVector(rng, 3)
		text.ids, image.ids = append(text.ids, id), append(image.ids, id)
		text.vectors[id], image.vectors[id] = tv, iv
		pts = append(pts, pointIn{ID: i, Vector: map[string]any{"text": tv, "image": iv}})
	}
	s.upsert("nv", pts...)

	qt, qi := randVector(rng, 5), randVector(rng, 3)
	checkHits(t, "Cosine", qt, text, s.query("nv", map[string]any{"query": qt, "using": "text", "limit": 5}), text.bruteForce("Cosine", qt, nil)[:5])
	checkHits(t, "Manhattan", qi, image, s.query("nv", map[string]any{"query": qi, "using": "image", "limit": 5}), image.bruteForce("Manhattan", qi, nil)[:5])
	self := image.ids[3]
	checkHits(t, "Manhattan", image.vectors[self], image,
		s.query("nv", map[string]any{"query": 3, "using": "image", "limit": 4}),
		image.bruteForce("Manhattan", image.vectors[self], func(id string) bool { return id != self })[:4])

	// with_vector by name returns the named vectors as an object.
	got := s.query("nv", map[string]any{"query": qi, "using": "image", "limit": 1, "with_vector": []string{"image"}})
	var vec map[string][]float32
	decode(t, got[0].Vector, &vec)
	if len(vec) != 1 || len(vec["image"]) != 3 {
		t.Errorf("with_vector [image]: %s", got[0].Vector)
	}

	// Legacy search names the vector inside the body.
	var legacy []record
	s.ok(http.MethodPost, "/collections/nv/points/search", map[string]any{"vector": map[string]any{"name": "image", "vector": qi}, "limit": 5}, &legacy)
	checkHits(t, "Manhattan", qi, image, legacy, image.bruteForce("Manhattan", qi, nil)[:5])

	// A named-vector collection has no unnamed vector to search.
	s.fail(http.MethodPost, "/collections/nv/points/query", map[string]any{"query": qt, "using": "xyz"}, http.StatusBadRequest, "Wrong input: Not existing vector name error: xyz")
	s.fail(http.MethodPost, "/collections/nv/points/query", map[string]any{"query": qi, "using": "text"}, http.StatusBadRequest, "Wrong input: Vector dimension error: expected dim: 5, got 3")
	s.failPrefix(http.MethodPost, "/collections/nv/points/query", map[string]any{"query": qt}, http.StatusBadRequest, "Wrong input: Not existing vector name error: ")
}

func TestQueryBatches(t *testing.T) {
	rng := seededRand(t)
	s := newServer(t, rest.Options{})
	d := fill(t, s, "b", map[string]any{"size": 6, "distance": "Dot"}, rng, 80, 6, "")
	q1, q2 := randVector(rng, 6), randVector(rng, 6)

	var batch []queryResult
	s.ok(http.MethodPost, "/collections/b/points/query/batch", map[string]any{"searches": []any{
		map[string]any{"query": q1, "limit": 4},
		map[string]any{"query": q2, "limit": 3, "filter": groupFilter(0)},
		map[string]any{"limit": 2},
	}}, &batch)
	if len(batch) != 3 {
		t.Fatalf("query batch: %d results, want 3", len(batch))
	}
	checkHits(t, "Dot", q1, d, batch[0].Points, d.bruteForce("Dot", q1, nil)[:4])
	checkHits(t, "Dot", q2, d, batch[1].Points, d.bruteForce("Dot", q2, func(id string) bool { return d.group[id] == 0 })[:3])
	if got := ids(batch[2].Points); !slices.Equal(got, []string{"0", "3"}) {
		t.Errorf("batch listing: %v, want [0 3]", got)
	}

	var legacy [][]record
	s.ok(http.MethodPost, "/collections/b/points/search/batch", map[string]any{"searches": []any{
		map[string]any{"vector": q1, "limit": 4},
		map[string]any{"vector": q2, "limit": 3, "filter": groupFilter(0), "with_payload": true},
	}}, &legacy)
	if len(legacy) != 2 {
		t.Fatalf("search batch: %d results, want 2", len(legacy))
	}
	checkHits(t, "Dot", q1, d, legacy[0], d.bruteForce("Dot", q1, nil)[:4])
	checkHits(t, "Dot", q2, d, legacy[1], d.bruteForce("Dot", q2, func(id string) bool { return d.group[id] == 0 })[:3])
	for _, h := range legacy[1] {
		if absent(h.Payload) {
			t.Errorf("%s: no payload with with_payload true", h.ID)
		}
	}

	var empty []any
	s.ok(http.MethodPost, "/collections/b/points/search/batch", map[string]any{"searches": []any{}}, &empty)
	s.ok(http.MethodPost, "/collections/b/points/query/batch", map[string]any{"searches": []any{}}, &empty)
	if len(empty) != 0 {
		t.Errorf("empty batch: %v", empty)
	}
	// One bad search fails the whole batch.
	s.fail(http.MethodPost, "/collections/b/points/query/batch", map[string]any{"searches": []any{
		map[string]any{"query": q1}, map[string]any{"query": []float32{1}},
	}}, http.StatusBadRequest, "Wrong input: Vector dimension error: expected dim: 6, got 1")
}

func TestQueryWithoutQueryListsPoints(t *testing.T) {
	rng := seededRand(t)
	s := newServer(t, rest.Options{})
	d := fill(t, s, "l", map[string]any{"size": 2, "distance": "Euclid"}, rng, 40, 2, "")
	// fill's ids: multiples of 3, with every tenth a UUID; UUIDs sort last.
	var inOrder []string
	for _, id := range d.ids {
		if id[0] != '"' {
			inOrder = append(inOrder, id)
		}
	}
	for _, id := range d.ids {
		if id[0] == '"' {
			inOrder = append(inOrder, id)
		}
	}
	if got := ids(s.query("l", map[string]any{})); !slices.Equal(got, inOrder[:10]) {
		t.Errorf("no query, default limit: %v, want %v", got, inOrder[:10])
	}
	if got := ids(s.query("l", map[string]any{"limit": 5, "offset": 33})); !slices.Equal(got, inOrder[33:38]) {
		t.Errorf("no query, offset 33: %v, want %v", got, inOrder[33:38])
	}
	var inGroup []string
	for _, id := range inOrder {
		if d.group[id] == 3 {
			inGroup = append(inGroup, id)
		}
	}
	got := s.query("l", map[string]any{"limit": 100, "filter": groupFilter(3), "with_payload": true})
	if !slices.Equal(ids(got), inGroup) {
		t.Errorf("no query, filter: %v, want %v", ids(got), inGroup)
	}
	for _, h := range got {
		if absent(h.Payload) {
			t.Errorf("%s: no payload with with_payload true", h.ID)
		}
	}
}

func TestQueryErrors(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("e", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Cosine"}})
	s.upsert("e", pointIn{ID: 1, Vector: []float32{1, 2, 3, 4}})
	for _, tc := range []struct {
		name        string
		path        string
		body        any
		code        int
		msg, prefix string
	}{
		{name: "wrong dim", path: "/points/query", body: map[string]any{"query": []float32{1, 2, 3}}, code: 400,
			msg: "Wrong input: Vector dimension error: expected dim: 4, got 3"},
		{name: "unknown using", path: "/points/query", body: map[string]any{"query": []float32{1, 2, 3, 4}, "using": "xyz"}, code: 400,
			msg: "Wrong input: Not existing vector name error: xyz"},
		{name: "missing point", path: "/points/query", body: map[string]any{"query": 12345}, code: 404,
			msg: "Not found: No point with id 12345 found"},
		{name: "limit 0", path: "/points/query", body: map[string]any{"query": []float32{1, 2, 3, 4}, "limit": 0}, code: 422,
			msg: "Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]"},
		{name: "bad filter", path: "/points/query", body: map[string]any{"query": []float32{1, 2, 3, 4}, "filter": map[string]any{"must": []any{map[string]any{"key": "a", "match": map[string]any{"valu": 1}}}}},
			code: 400, prefix: "Format error in JSON body: "},
		{name: "overflow", path: "/points/query", body: `{"query": [1e39, 0, 0, 0]}`, code: 400, prefix: "Format error in JSON body: "},
		{name: "malformed", path: "/points/query", body: `{"query": [1, 2`, code: 400, prefix: "Format error in JSON body: "},
		{name: "legacy wrong dim", path: "/points/search", body: map[string]any{"vector": []float32{1}, "limit": 3}, code: 400,
			msg: "Wrong input: Vector dimension error: expected dim: 4, got 1"},
		{name: "legacy no limit", path: "/points/search", body: map[string]any{"vector": []float32{1, 2, 3, 4}}, code: 400, prefix: "Format error in JSON body: "},
		{name: "legacy no vector", path: "/points/search", body: map[string]any{"limit": 3}, code: 400, prefix: "Format error in JSON body: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := s.on(t)
			if tc.prefix != "" {
				s.failPrefix(http.MethodPost, collPath("e", tc.path), tc.body, tc.code, tc.prefix)
			} else {
				s.fail(http.MethodPost, collPath("e", tc.path), tc.body, tc.code, tc.msg)
			}
		})
	}
}
