package collection

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
)

// TestFourShards runs a representative set of the package's tests on
// collections of four shards (openCollection gives every collection whose
// request names no shard_number testShards shards): a collection of N
// shards answers what a collection of one does. Left out, as they hold
// for each shard rather than for the collection: the idf oracle (idf is
// per shard, as in Qdrant), prevent_unoptimized's per-segment threshold,
// and the tests that wait for one shard's segments to be indexed.
func TestFourShards(t *testing.T) {
	tests := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"UpdateValidation", TestUpdateValidation},
		{"CosineNormalisedOnWrite", TestCosineNormalisedOnWrite},
		{"Retrieve", TestRetrieve},
		{"ScrollAndCount", TestScrollAndCount},
		{"Search", TestSearch},
		{"ReopenKeepsPoints", TestReopenKeepsPoints},
		{"SetConfig", TestSetConfig},
		{"MultivectorSearch", TestMultivectorSearch},
		{"MultivectorShapes", TestMultivectorShapes},
		{"StrictModeMultivector", TestStrictModeMultivector},
		{"Query", TestQuery},
		{"UpdateRefusesInvalidOperations", TestUpdateRefusesInvalidOperations},
		{"ReadsStopWhenContextDone", TestReadsStopWhenContextDone},
		{"ReadDeadline", TestReadDeadline},
		{"HugeReadSizes", TestHugeReadSizes},
		{"SparseWrites", TestSparseWrites},
		{"WithVector", TestWithVector},
		{"CollectionVectorsFollowConfig", TestCollectionVectorsFollowConfig},
	}
	testShards = 4
	defer func() { testShards = 1 }()
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}

func openSharded(t *testing.T, shards int, body string) (*Collection, string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	m["shard_number"] = shards
	b, _ := json.Marshal(m)
	return openCollection(t, string(b))
}

// randomPoints are n points with ids from 0..2n (some UUIDs), random
// vectors of dim and payload {"g": id%5, "x": a number}.
func randomPoints(r *rand.Rand, n, dim int) []ops.PointStruct {
	seen := map[point.ID]bool{}
	var pts []ops.PointStruct
	for len(pts) < n {
		id := point.NumID(r.Uint64N(uint64(2 * n)))
		if r.IntN(10) == 0 {
			var u uuid.UUID
			for i := range u {
				u[i] = byte(r.UintN(256))
			}
			id = point.UUIDID(u)
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		v := make([]float32, dim)
		for i := range v {
			v[i] = r.Float32()*2 - 1
		}
		g := len(pts) % 5
		pts = append(pts, ops.PointStruct{ID: id, Vectors: point.Vectors{"": v}, Payload: point.Payload{"g": json.Number(fmt.Sprint(g)), "x": json.Number(fmt.Sprint(r.IntN(50)))}})
	}
	return pts
}

// TestShardedSearchBruteForce: exact search over four shards equals
// brute force over all points (Dot: scored in float64 here, ties by id),
// with offsets, limits, a score threshold and a filter, and equals the
// same search on one shard, score for score.
func TestShardedSearchBruteForce(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	const dim = 8
	pts := randomPoints(r, 600, dim)
	body := `{"vectors":{"size":8,"distance":"Dot"}}`
	four, _ := openSharded(t, 4, body)
	one, _ := openSharded(t, 1, body)
	for i := 0; i < len(pts); i += 100 {
		upsert(t, four, pts[i:i+100]...)
		upsert(t, one, pts[i:i+100]...)
	}
	for _, rs := range four.layout().sets {
		l, _ := rs.Local()
		var n int
		l.View(func(s *shard.Reader) { n = s.Len() })
		if n < len(pts)/8 {
			t.Fatalf("shard %d holds %d of %d points", rs.id, n, len(pts))
		}
	}
	g2 := mustFilter(t, `{"must":[{"key":"g","match":{"value":2}}]}`)
	for round := range 20 {
		q := make([]float32, dim)
		for i := range q {
			q[i] = r.Float32()*2 - 1
		}
		req := ops.SearchRequest{Vector: q, Limit: 1 + r.IntN(30), Offset: r.IntN(20), Params: ops.SearchParams{Exact: true}, WithPayload: ops.PayloadSelector{Enable: true}}
		if round%3 == 1 {
			req.Filter = g2
		}
		if round%4 == 2 {
			th := float32(0.5)
			req.ScoreThreshold = &th
		}
		type scoredID struct {
			id    point.ID
			score float64
		}
		var brute []scoredID
		for i, p := range pts {
			if req.Filter != nil && i%5 != 2 {
				continue
			}
			s := 0.0
			for j := range q {
				s += float64(q[j]) * float64(p.Vectors[""][j])
			}
			if req.ScoreThreshold != nil && s < float64(*req.ScoreThreshold) {
				continue
			}
			brute = append(brute, scoredID{p.ID, s})
		}
		slices.SortFunc(brute, func(a, b scoredID) int {
			if c := cmp.Compare(b.score, a.score); c != 0 {
				return c
			}
			return a.id.Compare(b.id)
		})
		var want []point.ID
		for i := req.Offset; i < len(brute) && i < req.Offset+req.Limit; i++ {
			want = append(want, brute[i].id)
		}
		got, err := four.Search(bg, req)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(hitIDs(got), want) {
			t.Fatalf("round %d (%+v): got %v, want %v", round, req, hitIDs(got), want)
		}
		single, err := one.Search(bg, req)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(single)
		if string(a) != string(b) {
			t.Fatalf("round %d: four shards %s\n one shard %s", round, a, b)
		}
	}
	// By point id: the point's own shard gives the vector, every shard
	// leaves the point out.
	id := pts[7].ID
	got, err := four.Search(bg, ops.SearchRequest{QueryID: &id, Limit: 10, Params: ops.SearchParams{Exact: true}})
	if err != nil {
		t.Fatal(err)
	}
	single, _ := one.Search(bg, ops.SearchRequest{QueryID: &id, Limit: 10, Params: ops.SearchParams{Exact: true}})
	if !slices.Equal(hitIDs(got), hitIDs(single)) || slices.Contains(hitIDs(got), id) {
		t.Fatalf("by id: %v, one shard %v", hitIDs(got), hitIDs(single))
	}
}

// TestShardedScroll: paging through four shards with every page size
// returns each point once, in id order, and next_page_offset is the first
// id of the next page; with a filter too.
func TestShardedScroll(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	pts := randomPoints(r, 300, 2)
	c, _ := openSharded(t, 4, `{"vectors":{"size":2,"distance":"Dot"}}`)
	upsert(t, c, pts...)
	var all []point.ID
	for _, p := range pts {
		all = append(all, p.ID)
	}
	slices.SortFunc(all, point.ID.Compare)
	g3 := mustFilter(t, `{"must":[{"key":"g","match":{"value":3}}]}`)
	var some []point.ID
	for i, p := range pts {
		if i%5 == 3 {
			some = append(some, p.ID)
		}
	}
	slices.SortFunc(some, point.ID.Compare)
	for _, tc := range []struct {
		name string
		req  ops.ScrollRequest
		want []point.ID
	}{
		{"all", ops.ScrollRequest{}, all},
		{"filtered", ops.ScrollRequest{Filter: g3}, some},
	} {
		for _, limit := range []int{1, 2, 3, 7, 10, 64, 299, 300, 301, 1000} {
			var got []point.ID
			req := tc.req
			req.Limit = limit
			for pages := 0; ; pages++ {
				recs, next, err := c.Scroll(bg, req)
				if err != nil {
					t.Fatal(err)
				}
				if len(recs) > limit {
					t.Fatalf("%s limit %d: page of %d", tc.name, limit, len(recs))
				}
				got = append(got, recIDs(recs)...)
				if next == nil {
					break
				}
				if i := len(got); i >= len(tc.want) || tc.want[i] != *next {
					t.Fatalf("%s limit %d: next %v after %d points", tc.name, limit, *next, i)
				}
				req.Offset = next
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("%s limit %d: %d points, want %d in id order", tc.name, limit, len(got), len(tc.want))
			}
		}
	}
}

// TestShardedReads: retrieve, count, facet, order_by and query over four
// shards answer what one shard does.
func TestShardedReads(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 3))
	pts := randomPoints(r, 400, 3)
	body := `{"vectors":{"size":3,"distance":"Euclid"}}`
	four, _ := openSharded(t, 4, body)
	one, _ := openSharded(t, 1, body)
	for _, c := range []*Collection{four, one} {
		upsert(t, c, pts...)
		for _, key := range []string{"g", "x"} {
			if _, err := c.Update(bg, &ops.Operation{Kind: ops.CreateIndex, Key: key, Schema: &ops.FieldSchema{Type: "integer"}}, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	same := func(what string, a, b any) {
		t.Helper()
		x, _ := json.Marshal(a)
		y, _ := json.Marshal(b)
		if string(x) != string(y) {
			t.Fatalf("%s: four shards %s\none shard %s", what, x, y)
		}
	}
	ids := []point.ID{pts[9].ID, point.NumID(1 << 50), pts[3].ID, pts[200].ID, pts[9].ID, pts[1].ID}
	all := ops.PayloadSelector{Enable: true}
	vec := ops.VectorSelector{Enable: true}
	a, err := four.Retrieve(bg, ids, all, vec)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := one.Retrieve(bg, ids, all, vec)
	if !slices.Equal(recIDs(a), []point.ID{pts[9].ID, pts[3].ID, pts[200].ID, pts[1].ID}) {
		t.Fatalf("retrieve order: %v", recIDs(a))
	}
	same("retrieve", a, b)
	g1 := mustFilter(t, `{"must":[{"key":"g","match":{"value":1}}]}`)
	for _, req := range []ops.CountRequest{{Exact: true}, {Exact: true, Filter: g1}} {
		n4, _ := four.Count(bg, req)
		n1, _ := one.Count(bg, req)
		if n4 != n1 || n4 == 0 {
			t.Fatalf("count %+v: %d, one shard %d", req, n4, n1)
		}
	}
	for _, limit := range []int{3, 10, 100} {
		f4, err := four.Facet(bg, ops.FacetRequest{Key: "x", Limit: limit, Exact: true})
		if err != nil {
			t.Fatal(err)
		}
		f1, _ := one.Facet(bg, ops.FacetRequest{Key: "x", Limit: limit, Exact: true})
		same(fmt.Sprintf("facet limit %d", limit), f4, f1)
	}
	for _, desc := range []bool{false, true} {
		req := ops.ScrollRequest{Limit: 37, OrderBy: &ops.OrderBy{Key: "x", Desc: desc}, WithPayload: all}
		o4, _, err := four.Scroll(bg, req)
		if err != nil {
			t.Fatal(err)
		}
		o1, _, _ := one.Scroll(bg, req)
		same(fmt.Sprintf("order_by desc=%v", desc), o4, o1)
	}
	q := ops.QueryRequest{Limit: 15, Offset: 4, Filter: g1, WithPayload: all}
	q4, err := four.Query(bg, q)
	if err != nil {
		t.Fatal(err)
	}
	q1, _ := one.Query(bg, q)
	same("query without nearest", q4, q1)
	q.Nearest = &ops.NearestQuery{Vector: []float32{0.1, 0.2, 0.3}}
	q.Params.Exact = true
	q4, _ = four.Query(bg, q)
	q1, _ = one.Query(bg, q)
	same("query nearest", q4, q1)
	var batch4, batch1 [][]ScoredPoint
	reqs := []ops.SearchRequest{{Vector: []float32{1, 0, 0}, Limit: 5}, {Vector: []float32{0, 1, 0}, Limit: 5, Filter: g1}}
	four.SearchBatch(bg, reqs, func(_ int, h []ScoredPoint) error { batch4 = append(batch4, h); return nil })
	one.SearchBatch(bg, reqs, func(_ int, h []ScoredPoint) error { batch1 = append(batch1, h); return nil })
	same("search batch", batch4, batch1)
	in4, _ := four.Info()
	in1, _ := one.Info()
	if in4.PointsCount != in1.PointsCount || in4.SegmentsCount < 4 || !mapsEqualJSON(in4.PayloadSchema, in1.PayloadSchema) {
		t.Fatalf("info: four shards %d points %d segments %v, one shard %d points %v", in4.PointsCount, in4.SegmentsCount, in4.PayloadSchema, in1.PointsCount, in1.PayloadSchema)
	}
	if tel := four.Telemetry(); len(tel.Shards) != 4 || tel.Shards[3].ID != 3 || tel.Shards[3].Local == nil {
		t.Fatalf("telemetry shards: %+v", tel.Shards)
	}
}

func mapsEqualJSON(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestShardedWrites: updates split by shard (by id, by filter, by field)
// leave four shards holding what one shard holds, operation ids are the
// highest of the shards', and a batch answers each operation.
func TestShardedWrites(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 4))
	pts := randomPoints(r, 200, 2)
	body := `{"vectors":{"size":2,"distance":"Cosine"}}`
	four, dir := openSharded(t, 4, body)
	one, _ := openSharded(t, 1, body)
	g4 := mustFilter(t, `{"must":[{"key":"g","match":{"value":4}}]}`)
	// prepare normalises vectors into the operation's points: each
	// collection gets its own copy.
	batch := func() []*ops.Operation {
		return []*ops.Operation{
			{Kind: ops.Upsert, Points: slices.Clone(pts)},
			{Kind: ops.SetPayload, IDs: []point.ID{pts[0].ID, pts[1].ID, pts[2].ID}, Payload: point.Payload{"set": true}},
			{Kind: ops.Delete, Filter: g4},
			{Kind: ops.Delete, IDs: []point.ID{pts[5].ID, pts[6].ID}},
			{Kind: ops.ClearPayload, IDs: []point.ID{pts[7].ID}},
			{Kind: ops.DeleteVectors, IDs: []point.ID{pts[8].ID}, Keys: []string{""}},
			{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{{ID: pts[10].ID, Vectors: point.Vectors{"": {1, 0}}}}},
			{Kind: ops.CreateIndex, Key: "g", Schema: &ops.FieldSchema{Type: "integer"}},
		}
	}
	res4, err := four.UpdateBatch(bg, batch(), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := one.UpdateBatch(bg, batch(), true); err != nil {
		t.Fatal(err)
	}
	// Each operation answers the highest id of the shards it went to
	// (per-shard ids, as Qdrant's): the create_index, sent to every
	// shard after all the others, has the highest.
	if len(res4) != 8 || res4[7].OperationID != slices.MaxFunc(res4, func(a, b UpdateResult) int { return cmp.Compare(a.OperationID, b.OperationID) }).OperationID {
		t.Fatalf("batch results %+v", res4)
	}
	for _, r := range res4 {
		if r.Status != Completed {
			t.Fatalf("batch results %+v", res4)
		}
	}
	res, err := four.Update(bg, &ops.Operation{Kind: ops.OverwritePayload, Filter: mustFilter(t, `{"must":[{"key":"g","match":{"value":1}}]}`), Payload: point.Payload{"o": true}}, true)
	if err != nil || res.Status != Completed {
		t.Fatalf("update by filter: %+v %v", res, err)
	}
	var highest uint64
	for _, rs := range four.layout().sets {
		l, _ := rs.Local()
		highest = max(highest, l.Applied())
	}
	if res.OperationID+1 != highest {
		t.Fatalf("operation id %d, shards applied up to %d", res.OperationID, highest)
	}
	one.Update(bg, &ops.Operation{Kind: ops.OverwritePayload, Filter: mustFilter(t, `{"must":[{"key":"g","match":{"value":1}}]}`), Payload: point.Payload{"o": true}}, true)
	scrollAll := func(c *Collection) []Record {
		recs, _, err := c.Scroll(bg, ops.ScrollRequest{Limit: 1000, WithPayload: ops.PayloadSelector{Enable: true}, WithVector: ops.VectorSelector{Enable: true}})
		if err != nil {
			t.Fatal(err)
		}
		for i := range recs {
			recs[i].Version = 0 // versions are per shard
		}
		return recs
	}
	want, _ := json.Marshal(scrollAll(one))
	if got, _ := json.Marshal(scrollAll(four)); string(got) != string(want) {
		t.Fatalf("four shards and one shard hold different points (%d and %d bytes of JSON)", len(got), len(want))
	}
	// Restart keeps every shard.
	cfg, _ := four.Config()
	if err := four.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(nil, dir, "c", cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got, _ := json.Marshal(scrollAll(again)); string(got) != string(want) {
		t.Fatalf("reopened, four shards hold different points (%d and %d bytes of JSON)", len(got), len(want))
	}
	for _, rs := range again.layout().sets {
		l, _ := rs.Local()
		var n int
		l.View(func(s *shard.Reader) { n = s.Len() })
		if n == 0 || l.Dir() != shardDir(dir, rs.id) {
			t.Fatalf("shard %d at %s holds %d points", rs.id, l.Dir(), n)
		}
	}
}

// TestSplitOp: which shard gets what.
func TestSplitOp(t *testing.T) {
	var sets []*ReplicaSet
	for i := range 4 {
		sets = append(sets, newReplicaSet(ShardID(i), nil))
	}
	c := &Collection{}
	c.lay.Store(newLayout(sets, false, nil))
	var ids []point.ID
	for i := range 40 {
		ids = append(ids, point.NumID(uint64(i)))
	}
	flt := mustFilter(t, `{"must":[{"key":"a","match":{"value":1}}]}`)
	for _, tc := range []struct {
		name  string
		op    *ops.Operation
		every bool
	}{
		{"delete by ids", &ops.Operation{Kind: ops.Delete, IDs: ids}, false},
		{"delete by filter", &ops.Operation{Kind: ops.Delete, Filter: flt}, true},
		{"set payload by ids", &ops.Operation{Kind: ops.SetPayload, IDs: ids, Payload: point.Payload{"k": 1}, Key: "x"}, false},
		{"create index", &ops.Operation{Kind: ops.CreateIndex, Key: "a"}, true},
		{"delete vector name", &ops.Operation{Kind: ops.DeleteVectorName, Key: "v"}, true},
		{"empty upsert", &ops.Operation{Kind: ops.Upsert}, true},
	} {
		parts, err := c.layout().splitOp(tc.op, Routing{})
		if err != nil {
			t.Fatal(err)
		}
		if tc.every {
			for s, p := range parts {
				if p != tc.op {
					t.Fatalf("%s: shard %d got %+v, want the whole operation", tc.name, s, p)
				}
			}
			continue
		}
		seen := 0
		for s, p := range parts {
			if p == nil {
				continue
			}
			if p.Kind != tc.op.Kind || p.Key != tc.op.Key || fmt.Sprint(p.Payload) != fmt.Sprint(tc.op.Payload) {
				t.Fatalf("%s: shard %d part %+v lost fields", tc.name, s, p)
			}
			for _, id := range p.IDs {
				if c.layout().ring.Shard(id) != ShardID(s) {
					t.Fatalf("%s: id %v sent to shard %d", tc.name, id, s)
				}
				seen++
			}
		}
		if seen != len(ids) {
			t.Fatalf("%s: %d of %d ids routed", tc.name, seen, len(ids))
		}
	}
}

// TestCombine: the answer of an update over several shards.
func TestCombine(t *testing.T) {
	bad := point.Errorf(point.KindBadInput, "bad")
	for _, tc := range []struct {
		name    string
		results []UpdateResult
		errs    []error
		want    UpdateResult
		wantErr string
		kind    point.Kind
	}{
		{"highest id, strongest status", []UpdateResult{{3, Completed}, {}, {9, WaitTimeout}}, []error{nil, nil, nil}, UpdateResult{9, WaitTimeout}, "", 0},
		{"all failed: the first error", []UpdateResult{{0, Completed}, {0, Completed}}, []error{bad, errors.New("other")}, UpdateResult{}, "bad", point.KindBadInput},
		{"some failed: inconsistent", []UpdateResult{{4, Completed}, {0, Completed}, {}}, []error{nil, bad, nil}, UpdateResult{},
			"1 out of 2 shards failed to apply operation. First error captured: bad", point.KindBadInput},
	} {
		got, err := combine(tc.results, tc.errs)
		if tc.wantErr == "" {
			if err != nil || got != tc.want {
				t.Fatalf("%s: %+v %v, want %+v", tc.name, got, err, tc.want)
			}
			continue
		}
		if err == nil || point.DescriptionOf(err) != tc.wantErr || point.KindOf(err) != tc.kind {
			t.Fatalf("%s: error %v (kind %v), want %q", tc.name, err, point.KindOf(err), tc.wantErr)
		}
		if strings := tc.name == "some failed: inconsistent"; strings != errors.Is(err, ErrInconsistentShards) {
			t.Fatalf("%s: errors.Is(ErrInconsistentShards) = %v", tc.name, errors.Is(err, ErrInconsistentShards))
		}
	}
}

// fakeRemote answers a shard's reads from a fixed count, or fails.
type fakeRemote struct {
	peer  uint64
	count int
	err   error
	calls int
}

func (f *fakeRemote) Peer() uint64 { return f.peer }
func (f *fakeRemote) Update(context.Context, string, ShardID, *ops.Operation, RemoteUpdate) (RemoteUpdateResult, error) {
	return RemoteUpdateResult{}, errors.New("not in this test")
}
func (f *fakeRemote) Search(context.Context, string, ShardID, ops.SearchRequest) ([]ScoredPoint, error) {
	return nil, f.err
}
func (f *fakeRemote) Scroll(context.Context, string, ShardID, ops.ScrollRequest) ([]Record, *point.ID, error) {
	return nil, nil, f.err
}
func (f *fakeRemote) Count(context.Context, string, ShardID, ops.CountRequest) (int, error) {
	f.calls++
	return f.count, f.err
}
func (f *fakeRemote) Retrieve(context.Context, string, ShardID, []point.ID, ops.PayloadSelector, ops.VectorSelector) ([]Record, error) {
	return nil, f.err
}
func (f *fakeRemote) Facet(context.Context, string, ShardID, ops.FacetRequest) ([]FacetHit, error) {
	return nil, f.err
}

// TestReplicaSetPicksByState: reads go to one readable replica, the local
// one first, a remote that cannot be reached is skipped for the next, an
// engine error is the answer; replicas that serve no reads are not asked.
func TestReplicaSetPicksByState(t *testing.T) {
	c, _ := openSharded(t, 2, `{"vectors":{"size":2,"distance":"Dot"}}`)
	upsert(t, c, ops.PointStruct{ID: point.NumID(1), Vectors: point.Vectors{"": {1, 0}}})
	rs := c.layout().route(point.NumID(1))
	count := func() (int, error) {
		return readFrom(bg, rs, func(sh *shard.Shard) (n int, err error) {
			sh.View(func(s *shard.Reader) { n = s.Len() })
			return n, nil
		}, func(r Remote) (int, error) { return r.Count(bg, "c", rs.id, ops.CountRequest{}) })
	}
	down := &fakeRemote{peer: 2, err: errors.New("connection refused")}
	listener := &fakeRemote{peer: 3, count: 300}
	up := &fakeRemote{peer: 4, count: 7}
	rs.SetRemote(down, ReplicaActive)
	rs.SetRemote(listener, ReplicaListener)
	rs.SetRemote(up, ReplicaActive)
	if n, err := count(); n != 1 || err != nil || down.calls+up.calls+listener.calls != 0 {
		t.Fatalf("local first: %d %v", n, err)
	}
	rs.SetLocalState(ReplicaPartial) // takes updates, serves no reads
	if n, err := count(); n != 7 || err != nil || down.calls != 1 || listener.calls != 0 {
		t.Fatalf("down remote skipped: %d %v (calls %d %d)", n, err, down.calls, listener.calls)
	}
	up.err = point.Errorf(point.KindBadInput, "refused")
	if _, err := count(); point.KindOf(err) != point.KindBadInput {
		t.Fatalf("engine error: %v", err)
	}
	rs.RemoveRemote(up.peer)
	if _, err := count(); point.KindOf(err) != point.KindUnavailable {
		t.Fatalf("no replica answered: %v", err)
	}
	rs.RemoveRemote(down.peer)
	if _, err := count(); !errors.Is(err, ErrNoReplica) {
		t.Fatalf("no readable replica: %v", err)
	}
	// Updates reach the local replica while it takes them, and fail when
	// it does not.
	if _, err := c.Update(bg, &ops.Operation{Kind: ops.Delete, IDs: []point.ID{point.NumID(1)}}, true); err != nil {
		t.Fatalf("update of a Partial replica: %v", err)
	}
	rs.SetLocalState(ReplicaDead)
	_, err := c.Update(bg, &ops.Operation{Kind: ops.Delete, IDs: []point.ID{point.NumID(1)}}, true)
	if !errors.Is(err, ErrNoReplica) {
		t.Fatalf("update of a Dead replica: %v", err)
	}
	if got := rs.States(9); got[9] != ReplicaDead || got[3] != ReplicaListener || len(got) != 2 {
		t.Fatalf("states %v", got)
	}
}

// TestReplicaStates: which states serve reads and take updates (the
// seed's table; updates as Qdrant's is_updatable: a Recovery or
// PartialSnapshot replica takes only forced ones).
func TestReplicaStates(t *testing.T) {
	for _, tc := range []struct {
		s             ReplicaState
		read, updates bool
	}{
		{ReplicaActive, true, true},
		{ReplicaDead, false, false},
		{ReplicaPartial, false, true},
		{ReplicaInitializing, false, true},
		{ReplicaListener, false, true},
		{ReplicaPartialSnapshot, true, false},
		{ReplicaRecovery, false, false},
		{ReplicaResharding, false, true},
		{ReplicaReshardingScaleDown, true, true},
		{ReplicaActiveRead, true, true},
		{ReplicaManualRecovery, false, false},
	} {
		if tc.s.Readable() != tc.read || tc.s.TakesUpdates() != tc.updates {
			t.Errorf("%s: readable %v takes updates %v, want %v %v", tc.s, tc.s.Readable(), tc.s.TakesUpdates(), tc.read, tc.updates)
		}
	}
	if ReplicaState(0).String() != "ReplicaState(0)" || ReplicaActiveRead.String() != "ActiveRead" {
		t.Fatal("names")
	}
}

// TestShardedSparseIDF: each shard weighs a sparse query by its own idf
// statistics, as each of Qdrant's shards builds its query context from
// its own segments.
func TestShardedSparseIDF(t *testing.T) {
	c, _ := openSharded(t, 2, `{"sparse_vectors":{"s":{"modifier":"idf"}}}`)
	var in0, in1 []point.ID
	for i := uint64(0); len(in0) < 10 || len(in1) < 10; i++ {
		id := point.NumID(i)
		if c.layout().ring.Shard(id) == 0 {
			in0 = append(in0, id)
		} else {
			in1 = append(in1, id)
		}
	}
	sv := func(dim uint32) point.SparseVectors {
		return point.SparseVectors{"s": {Indices: []uint32{dim}, Values: []float32{1}}}
	}
	var pts []ops.PointStruct
	for i := range 10 {
		pts = append(pts, ops.PointStruct{ID: in0[i], Sparse: sv(5)}) // every point of shard 0 has dim 5
		dim := uint32(6)
		if i == 0 {
			dim = 5 // one point of shard 1 has it
		}
		pts = append(pts, ops.PointStruct{ID: in1[i], Sparse: sv(dim)})
	}
	upsert(t, c, pts...)
	q := point.SparseVector{Indices: []uint32{5}, Values: []float32{1}}
	hits, err := c.Search(bg, ops.SearchRequest{Using: "s", Sparse: &q, Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 11 || hits[0].ID != in1[0] || hits[0].Score != IDF(10, 1) {
		t.Fatalf("best hit %+v of %d, want %v scored %v (shard 1's idf)", hits[0], len(hits), in1[0], IDF(10, 1))
	}
	for _, h := range hits[1:] {
		if h.Score != IDF(10, 10) || c.layout().ring.Shard(h.ID) != 0 {
			t.Fatalf("hit %+v, want shard 0's points scored %v", h, IDF(10, 10))
		}
	}
}

// TestLegacyOneShard: a collection created before the shard holder kept
// every point in shards/0 whatever its shard_number said; it keeps that
// one shard (every point found by id), while a collection whose shards/0
// holds nothing gets all its shards.
func TestLegacyOneShard(t *testing.T) {
	c, dir := openSharded(t, 1, `{"vectors":{"size":2,"distance":"Dot"}}`)
	var pts []ops.PointStruct
	for i := range 50 {
		pts = append(pts, ops.PointStruct{ID: point.NumID(uint64(i)), Vectors: point.Vectors{"": {1, float32(i)}}})
	}
	upsert(t, c, pts...)
	cfg, _ := c.Config()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Params.ShardNumber = 3 // what an old standalone create saved
	old, err := Open(nil, dir, "c", cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	recs, err := old.Retrieve(bg, recIDs(func() []Record {
		r, _, _ := old.Scroll(bg, ops.ScrollRequest{Limit: 100})
		return r
	}()), ops.PayloadSelector{}, ops.VectorSelector{})
	if err != nil || len(old.Shards()) != 1 || len(recs) != 50 {
		t.Fatalf("legacy collection: %d shards, %d of 50 points found by id (%v)", len(old.Shards()), len(recs), err)
	}

	empty, dir2 := openSharded(t, 1, `{"vectors":{"size":2,"distance":"Dot"}}`)
	cfg2, _ := empty.Config()
	empty.Close()
	cfg2.Params.ShardNumber = 3
	fresh, err := Open(nil, dir2, "c", cfg2, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if len(fresh.Shards()) != 3 {
		t.Fatalf("empty shards/0: %d shards, want 3", len(fresh.Shards()))
	}
}
