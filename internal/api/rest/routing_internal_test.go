package rest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/node"
	"github.com/shoaldb/shoal/internal/ops"
)

func skeys(ks ...string) []collection.ShardKey {
	out := make([]collection.ShardKey, len(ks))
	for i, k := range ks {
		out[i] = collection.ShardKey(k)
	}
	return out
}

// TestParseShardKeySelector: every variant of Qdrant's ShardKeySelector
// (a key, a list, a key with a fallback), keys canonical (a string as its
// JSON, a number as digits), and serde's untagged-enum refusal of anything
// else: a negative, fractional or boolean key, a fallback object missing a
// field.
func TestParseShardKeySelector(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want shardSelection
		err  bool
	}{
		{``, shardSelection{}, false},
		{`null`, shardSelection{}, false},
		{`"eu"`, shardSelection{keys: skeys(`"eu"`)}, false},
		{` "eu" `, shardSelection{keys: skeys(`"eu"`)}, false},
		{`"\u0065u"`, shardSelection{keys: skeys(`"eu"`)}, false},
		{`12`, shardSelection{keys: skeys(`12`)}, false},
		{`"12"`, shardSelection{keys: skeys(`"12"`)}, false},
		{`18446744073709551615`, shardSelection{keys: skeys(`18446744073709551615`)}, false},
		{`["eu", 7]`, shardSelection{keys: skeys(`"eu"`, `7`)}, false},
		{`[]`, shardSelection{keys: skeys()}, false},
		{`{"target": "eu", "fallback": "default"}`, shardSelection{keys: skeys(`"eu"`), fallback: `"default"`}, false},
		{`{"target": 1, "fallback": 2}`, shardSelection{keys: skeys(`1`), fallback: `2`}, false},
		{`-1`, shardSelection{}, true},
		{`1.5`, shardSelection{}, true},
		{`18446744073709551616`, shardSelection{}, true},
		{`true`, shardSelection{}, true},
		{`["eu", -1]`, shardSelection{}, true},
		{`[["eu"]]`, shardSelection{}, true},
		{`{"target": "eu"}`, shardSelection{}, true},
		{`{"fallback": "eu"}`, shardSelection{}, true},
		{`{"target": "eu", "fallback": null}`, shardSelection{}, true},
		{`{"target": 1.5, "fallback": "x"}`, shardSelection{}, true},
		{`{}`, shardSelection{}, true},
	} {
		got, err := parseShardKeySelector(json.RawMessage(tc.raw))
		if tc.err {
			if err == nil {
				t.Errorf("%s: parsed as %+v, want an error", tc.raw, got)
				continue
			}
			if code, text := statusOf(err); code != http.StatusBadRequest || text != "Format error in JSON body: shard_key: data did not match any variant of untagged enum ShardKeySelector" {
				t.Errorf("%s: %d %q", tc.raw, code, text)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.raw, err)
			continue
		}
		if !got.equal(tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.raw, got, tc.want)
		}
	}
}

// TestQueryConsistencyAndOrdering: ?consistency= takes a positive integer,
// majority, quorum or all (Qdrant's ReadConsistency), ?ordering= weak,
// medium or strong; anything else is Qdrant's 400, with serde's words.
func TestQueryConsistencyAndOrdering(t *testing.T) {
	const badConsistency = "Query deserialize error: consistency: data did not match any variant of untagged enum ReadConsistency"
	for _, tc := range []struct {
		query string
		want  collection.ReadConsistency
		err   bool
	}{
		{"", collection.ReadConsistency{}, false},
		{"consistency=1", collection.ReadConsistency{Kind: collection.ConsistencyFactor, Factor: 1}, false},
		{"consistency=3", collection.ReadConsistency{Kind: collection.ConsistencyFactor, Factor: 3}, false},
		{"consistency=majority", collection.ReadConsistency{Kind: collection.ConsistencyMajority}, false},
		{"consistency=quorum", collection.ReadConsistency{Kind: collection.ConsistencyQuorum}, false},
		{"consistency=all", collection.ReadConsistency{Kind: collection.ConsistencyAll}, false},
		{"consistency=0", collection.ReadConsistency{}, true},
		{"consistency=-1", collection.ReadConsistency{}, true},
		{"consistency=1.5", collection.ReadConsistency{}, true},
		{"consistency=All", collection.ReadConsistency{}, true},
		{"consistency=", collection.ReadConsistency{}, true},
		{"consistency=some", collection.ReadConsistency{}, true},
	} {
		r := httptest.NewRequest(http.MethodPost, "/collections/c/points/count?"+tc.query, nil)
		got, err := queryConsistency(r)
		switch {
		case tc.err && err == nil:
			t.Errorf("%q: parsed as %+v, want an error", tc.query, got)
		case tc.err:
			if code, text := statusOf(err); code != http.StatusBadRequest || text != badConsistency {
				t.Errorf("%q: %d %q", tc.query, code, text)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.query, err)
		case got != tc.want:
			t.Errorf("%q: got %+v, want %+v", tc.query, got, tc.want)
		}
	}
	for _, tc := range []struct {
		query string
		want  collection.WriteOrdering
		err   string
	}{
		{"", collection.OrderingWeak, ""},
		{"ordering=weak", collection.OrderingWeak, ""},
		{"ordering=medium", collection.OrderingMedium, ""},
		{"ordering=strong", collection.OrderingStrong, ""},
		{"ordering=Strong", 0, "Query deserialize error: ordering: unknown variant `Strong`, expected one of `weak`, `medium`, `strong`"},
		{"ordering=", 0, "Query deserialize error: ordering: unknown variant ``, expected one of `weak`, `medium`, `strong`"},
	} {
		r := httptest.NewRequest(http.MethodPut, "/collections/c/points?"+tc.query, nil)
		got, err := queryOrdering(r)
		if tc.err != "" {
			if err == nil {
				t.Errorf("%q: parsed as %v, want an error", tc.query, got)
			} else if _, text := statusOf(err); text != tc.err {
				t.Errorf("%q: got %v %v, want %q", tc.query, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %v %v, want %v", tc.query, got, err, tc.want)
		}
	}
}

// TestRunsOf: a batch is cut where the shard selection changes, never
// elsewhere, and equal selections that are not adjacent stay apart (the
// order of a batch is kept).
func TestRunsOf(t *testing.T) {
	eu, us := shardSelection{keys: skeys(`"eu"`)}, shardSelection{keys: skeys(`"us"`)}
	euFb := shardSelection{keys: skeys(`"eu"`), fallback: `"us"`}
	empty := shardSelection{keys: skeys()}
	for _, tc := range []struct {
		name string
		sels []shardSelection
		want [][2]int
	}{
		{"none", nil, nil},
		{"one", []shardSelection{{}}, [][2]int{{0, 1}}},
		{"all alike", []shardSelection{eu, eu, eu}, [][2]int{{0, 3}}},
		{"no key is not an empty list", []shardSelection{{}, empty, {}}, [][2]int{{0, 1}, {1, 2}, {2, 3}}},
		{"fallback differs", []shardSelection{eu, euFb, euFb}, [][2]int{{0, 1}, {1, 3}}},
		{"apart", []shardSelection{eu, eu, us, eu}, [][2]int{{0, 2}, {2, 3}, {3, 4}}},
	} {
		if got := runsOf(tc.sels); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestBatchRoutes: the runs of a read batch and of an update batch reach
// the collection with their own shard keys, keeping the ordering and the
// consistency of the request; results keep their place in the batch, and
// the first failing run stops the batch.
func TestBatchRoutes(t *testing.T) {
	eu, us := shardSelection{keys: skeys(`"eu"`)}, shardSelection{keys: skeys(`"us"`, `7`), fallback: `"x"`}
	base := collection.WithRouting(context.Background(), collection.Routing{Ordering: collection.OrderingStrong, Consistency: collection.ReadConsistency{Kind: collection.ConsistencyQuorum}})
	sels := []shardSelection{eu, eu, us, {}}

	type call struct {
		routing collection.Routing
		n       int
	}
	var calls []call
	var order []int
	err := batchRuns(base, []int{10, 11, 12, 13}, sels,
		func(ctx context.Context, reqs []int, each func(int, []collection.ScoredPoint) error) error {
			calls = append(calls, call{collection.RoutingOf(ctx), len(reqs)})
			for i := range reqs {
				if err := each(i, nil); err != nil {
					return err
				}
			}
			return nil
		},
		func(i int, _ []collection.ScoredPoint) error { order = append(order, i); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []call{
		{collection.Routing{Ordering: collection.OrderingStrong, Consistency: collection.ReadConsistency{Kind: collection.ConsistencyQuorum}, ShardKeys: eu.keys}, 2},
		{collection.Routing{Ordering: collection.OrderingStrong, Consistency: collection.ReadConsistency{Kind: collection.ConsistencyQuorum}, ShardKeys: us.keys, Fallback: `"x"`}, 1},
		{collection.Routing{Ordering: collection.OrderingStrong, Consistency: collection.ReadConsistency{Kind: collection.ConsistencyQuorum}}, 1},
	}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("read runs:\n got %+v\nwant %+v", calls, want)
	}
	if !reflect.DeepEqual(order, []int{0, 1, 2, 3}) {
		t.Errorf("results reported at %v, want 0..3", order)
	}

	calls = nil
	kindID := map[ops.Kind]uint64{ops.Upsert: 1, ops.Delete: 2, ops.SetPayload: 3, ops.ClearPayload: 4}
	batch := []*ops.Operation{{Kind: ops.Upsert}, {Kind: ops.Delete}, {Kind: ops.SetPayload}, {Kind: ops.ClearPayload}}
	res, err := updateRuns(base, batch, sels, func(ctx context.Context, part []*ops.Operation) ([]collection.UpdateResult, error) {
		calls = append(calls, call{collection.RoutingOf(ctx), len(part)})
		out := make([]collection.UpdateResult, len(part))
		for i, op := range part {
			out[i].OperationID = kindID[op.Kind]
		}
		return out, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("update runs:\n got %+v\nwant %+v", calls, want)
	}
	for i, r := range res {
		if r.OperationID != kindID[batch[i].Kind] {
			t.Errorf("result %d is of operation %d, want %s", i, r.OperationID, batch[i].Kind)
		}
	}

	boom := errors.New("boom")
	calls = nil
	_, err = updateRuns(base, batch, sels, func(ctx context.Context, part []*ops.Operation) ([]collection.UpdateResult, error) {
		calls = append(calls, call{collection.RoutingOf(ctx), len(part)})
		return nil, boom
	})
	if !errors.Is(err, boom) || len(calls) != 1 {
		t.Errorf("a failing run: %v after %d runs, want boom after 1", err, len(calls))
	}
}

// TestReadRouting: a read route hands the collection a context routed by
// ?consistency= and the body's shard_key, and refuses a bad one before it
// runs.
func TestReadRouting(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := node.Open(node.Options{StoragePath: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if err := n.CreateCollection(context.Background(), "c", &collection.CreateRequest{}); err != nil {
		t.Fatal(err)
	}
	s := New(n, Options{Logger: quiet})
	var got *collection.Routing
	h := read(s, func(ctx context.Context, _ *collection.Collection, in *countIn) (int, error) {
		r := collection.RoutingOf(ctx)
		got = &r
		return 0, nil
	})
	for _, tc := range []struct {
		query, body string
		want        *collection.Routing
		code        int
	}{
		{"", `{}`, &collection.Routing{}, http.StatusOK},
		{"?consistency=majority", `{"shard_key": "eu"}`, &collection.Routing{Consistency: collection.ReadConsistency{Kind: collection.ConsistencyMajority}, ShardKeys: skeys(`"eu"`)}, http.StatusOK},
		{"?consistency=2", `{"shard_key": {"target": 5, "fallback": "any"}}`, &collection.Routing{Consistency: collection.ReadConsistency{Factor: 2}, ShardKeys: skeys(`5`), Fallback: `"any"`}, http.StatusOK},
		{"?consistency=none", `{}`, nil, http.StatusBadRequest},
		{"", `{"shard_key": false}`, nil, http.StatusBadRequest},
	} {
		got = nil
		req := httptest.NewRequest(http.MethodPost, "/collections/c/points/count"+tc.query, strings.NewReader(tc.body))
		req.SetPathValue("name", "c")
		rec := httptest.NewRecorder()
		h(rec, req)
		if rec.Code != tc.code {
			t.Errorf("%s %s: status %d, want %d: %s", tc.query, tc.body, rec.Code, tc.code, rec.Body)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %s: routing %+v, want %+v", tc.query, tc.body, got, tc.want)
		}
	}
}
