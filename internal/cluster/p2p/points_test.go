package p2p

import (
	"context"
	"math"
	"reflect"
	"testing"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

const uuidText = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"

func mustFilter(t *testing.T, js string) *filter.Filter {
	t.Helper()
	f, err := filter.Parse([]byte(js))
	if err != nil {
		t.Fatalf("filter %s: %v", js, err)
	}
	return f
}

func mustPayload(t *testing.T, js string) point.Payload {
	t.Helper()
	p, err := point.DecodePayload([]byte(js))
	if err != nil {
		t.Fatalf("payload %s: %v", js, err)
	}
	return p
}

func mustUUID(t *testing.T) point.ID {
	t.Helper()
	id, err := point.ParseUUID(uuidText)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// sampleRecords are records with what a read must carry exactly: both id
// kinds, the largest integer id, payload numbers as written, {} apart from
// no payload, named and unnamed vectors, a multivector's flat rows, sparse
// vectors, vectors asked for but none stored, both kinds of order value.
func sampleRecords(t *testing.T) []collection.Record {
	return []collection.Record{
		{ID: point.NumID(math.MaxUint64), Version: 7, Payload: mustPayload(t, `{"big":18446744073709551615,"f":1.0,"s":"<&>","o":{"a":[1,"x",null]}}`),
			Vectors: point.Vectors{"": {0, -1.5, math.MaxFloat32, math.SmallestNonzeroFloat32}, "colbert": {1, 2, 3, 4, 5, 6}},
			Sparse:  point.SparseVectors{"text": {Indices: []uint32{0, math.MaxUint32}, Values: []float32{0.5, -2}}}},
		{ID: mustUUID(t), Payload: point.Payload{}, Vectors: point.Vectors{}, Sparse: point.SparseVectors{}, OrderValue: int64(-42)},
		{ID: point.NumID(0), OrderValue: 2.5},
		{ID: point.NumID(3), Vectors: point.Vectors{"image": {1}}},
	}
}

// TestPointsReadsRoundTrip: every read goes through a real gRPC server on
// loopback: the replica gets the request deeply equal to what was sent,
// with its collection and shard, and the caller gets the replica's answer
// deeply equal.
func TestPointsReadsRoundTrip(t *testing.T) {
	uid := mustUUID(t)
	f := mustFilter(t, `{"must":[{"key":"color","match":{"value":"red"}}]}`)
	recs := sampleRecords(t)
	nan := math.Float32frombits(0x7fc00001)
	fake := &fakeReplicas{
		scored: []collection.ScoredPoint{
			{ID: uid, Version: 3, Score: 0.987654321, Payload: mustPayload(t, `{"n":1e400}`), Vectors: point.Vectors{"": {1, 2}}},
			{ID: point.NumID(9), Score: float32(math.Inf(-1)), Sparse: point.SparseVectors{"s": {Indices: []uint32{4}, Values: []float32{1}}}},
			{ID: point.NumID(10), Score: float32(math.Copysign(0, -1))},
		},
		records: recs,
		next:    &uid,
		count:   123456789,
		facet:   []collection.FacetHit{{Value: "red", Count: 5}, {Value: int64(-7), Count: 3}, {Value: true, Count: 1}, {Value: "", Count: 0}},
	}
	remote, _, _ := pointsPeer(t, fake, RemoteConfig{})
	ctx := context.Background()
	sel := ops.PayloadSelector{Enable: true, Include: []point.Path{point.MustParsePath("a.b[]")}}
	vsel := ops.VectorSelector{Enable: true, Names: []string{"image"}}

	search := ops.SearchRequest{Using: "image", Vector: []float32{1, nan, 3}, Filter: f, Limit: 10, Offset: 2,
		ScoreThreshold: ptr(float32(0.5)), WithPayload: sel, WithVector: vsel, Params: ops.SearchParams{HnswEf: 64, Exact: true}}
	hits, err := remote.Search(ctx, "c1", 3, search)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(hits, fake.scored) {
		t.Fatalf("search answered\n%#v\nwant\n%#v", hits, fake.scored)
	}
	if math.Float32bits(hits[0].Score) != math.Float32bits(fake.scored[0].Score) || math.Float32bits(hits[2].Score) != 0x80000000 {
		t.Fatalf("scores changed bits: %x %x", math.Float32bits(hits[0].Score), math.Float32bits(hits[2].Score))
	}

	scroll := ops.ScrollRequest{Filter: f, Offset: &uid, OrderBy: &ops.OrderBy{Key: "price", Desc: true}, Limit: 3, WithPayload: sel}
	got, next, err := remote.Scroll(ctx, "c1", 0, scroll)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, recs) || next == nil || *next != uid {
		t.Fatalf("scroll answered\n%#v %v\nwant\n%#v %v", got, next, recs, uid)
	}

	count := ops.CountRequest{Filter: f, Exact: true}
	n, err := remote.Count(ctx, "c1", math.MaxUint32, count)
	if err != nil || n != fake.count {
		t.Fatalf("count answered %d, %v", n, err)
	}

	ids := []point.ID{point.NumID(1), uid, point.NumID(1)}
	got, err = remote.Retrieve(ctx, "c2", 1, ids, sel, vsel)
	if err != nil || !reflect.DeepEqual(got, recs) {
		t.Fatalf("retrieve answered %#v, %v", got, err)
	}

	facet := ops.FacetRequest{Key: "color", Filter: f, Limit: 4, Exact: true}
	fh, err := remote.Facet(ctx, "c1", 2, facet)
	if err != nil || !reflect.DeepEqual(fh, fake.facet) {
		t.Fatalf("facet answered %#v, %v", fh, err)
	}

	// The last page of a scroll has no next offset.
	fake.set(func() { fake.next = nil })
	if _, next, err := remote.Scroll(ctx, "c1", 0, ops.ScrollRequest{Limit: 1}); err != nil || next != nil {
		t.Fatalf("last page: next %v, %v", next, err)
	}

	calls := fake.seen()
	want := []struct {
		method, coll string
		shard        collection.ShardID
		req          any
	}{
		{"search", "c1", 3, search},
		{"scroll", "c1", 0, scroll},
		{"count", "c1", math.MaxUint32, count},
		{"retrieve", "c2", 1, ops.RetrieveRequest{IDs: ids, WithPayload: sel, WithVector: vsel}},
		{"facet", "c1", 2, facet},
	}
	for i, w := range want {
		c := calls[i]
		if c.method != w.method || c.collection != w.coll || c.shard != w.shard {
			t.Fatalf("call %d: %s %s/%d, want %s %s/%d", i, c.method, c.collection, c.shard, w.method, w.coll, w.shard)
		}
		if i == 0 {
			// NaN != NaN: compare the query by its bits, the rest deeply.
			got := c.req.(ops.SearchRequest)
			if math.Float32bits(got.Vector[1]) != 0x7fc00001 {
				t.Fatalf("query vector changed bits: %x", math.Float32bits(got.Vector[1]))
			}
			want := w.req.(ops.SearchRequest)
			got.Vector, want.Vector = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("search arrived as\n%#v\nwant\n%#v", got, want)
			}
			continue
		}
		if !reflect.DeepEqual(c.req, w.req) {
			t.Fatalf("%s arrived as\n%#v\nwant\n%#v", w.method, c.req, w.req)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestPointsUpdateRoundTrip: an update arrives with its operation, wait,
// ordering and clock tag (or none), and every kind of answer comes back.
func TestPointsUpdateRoundTrip(t *testing.T) {
	fake := &fakeReplicas{}
	remote, _, _ := pointsPeer(t, fake, RemoteConfig{})
	op := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: mustUUID(t), Vectors: point.Vectors{"": {1, 2, 3}},
		Payload: mustPayload(t, `{"a":1}`)}}}
	for i, c := range []struct {
		opts collection.RemoteUpdate
		res  collection.RemoteUpdateResult
	}{
		{collection.RemoteUpdate{}, collection.RemoteUpdateResult{OperationID: 1}},
		{collection.RemoteUpdate{Wait: true, Ordering: collection.OrderingMedium}, collection.RemoteUpdateResult{OperationID: 2, Completed: true}},
		{collection.RemoteUpdate{Wait: true, Ordering: collection.OrderingStrong,
			Tag: &ops.ClockTag{PeerID: 3, ClockID: 4, Tick: math.MaxUint64, Token: 77, Force: true}},
			collection.RemoteUpdateResult{OperationID: math.MaxUint64, Completed: true, Tag: ops.ClockTag{PeerID: 3, ClockID: 4, Tick: math.MaxUint64, Token: 77, Force: true}}},
		{collection.RemoteUpdate{Tag: &ops.ClockTag{PeerID: 1, Tick: 5}},
			collection.RemoteUpdateResult{Rejected: true, Tag: ops.ClockTag{PeerID: 1, Tick: 9}}},
	} {
		fake.set(func() { fake.update = c.res })
		got, err := remote.Update(context.Background(), "c", 5, op, c.opts)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if got != c.res {
			t.Fatalf("%d: answered %+v, want %+v", i, got, c.res)
		}
		call := fake.seen()[i]
		u := call.req.(updateCall)
		if call.collection != "c" || call.shard != 5 || !reflect.DeepEqual(u.op, op) || !reflect.DeepEqual(u.opts, c.opts) {
			t.Fatalf("%d: arrived as %s/%d %+v %+v", i, call.collection, call.shard, u.op, u.opts)
		}
	}
}
