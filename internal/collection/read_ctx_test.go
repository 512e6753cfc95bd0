package collection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// countdownCtx reports itself cancelled from its doneAt-th Err call on, and
// counts the calls. The reads look at their context before any work and
// then every checkEvery points (or distance evaluations), so the calls
// count the work done, with no clock involved. The shards of a collection
// read at once, so the count is atomic.
type countdownCtx struct {
	context.Context // never done, but its Done channel is not nil
	n               atomic.Int64
	doneAt          int
}

func (c *countdownCtx) Err() error {
	if int(c.n.Add(1)) >= c.doneAt {
		return context.Canceled
	}
	return nil
}

func (c *countdownCtx) calls() int { return int(c.n.Load()) }

func newCountdown(t *testing.T, doneAt int) *countdownCtx {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &countdownCtx{Context: ctx, doneAt: doneAt}
}

// readCollection holds n points with an unindexed payload key g, a keyword
// index on kw and an integer index on n.
func readCollection(t *testing.T, n int) *Collection {
	const seed = 20260311
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	c, _ := openCollection(t, `{"vectors":{"size":4,"distance":"Cosine"}}`)
	for key, typ := range map[string]ops.FieldType{"kw": ops.KeywordField, "n": ops.IntegerField} {
		op := &ops.Operation{Kind: ops.CreateIndex, Key: key, Schema: &ops.FieldSchema{Type: typ}}
		if _, err := c.Update(bg, op, true); err != nil {
			t.Fatal(err)
		}
	}
	pts := make([]ops.PointStruct, n)
	for i := range pts {
		v := []float32{float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64())}
		pts[i] = ops.PointStruct{ID: point.NumID(uint64(i)), Vectors: point.Vectors{"": v}, Payload: point.Payload{
			"g": json.Number(fmt.Sprint(i % 10)), "kw": fmt.Sprintf("k%d", i%7), "n": json.Number(fmt.Sprint(i)),
		}}
	}
	upsert(t, c, pts...)
	return c
}

// TestReadsStopWhenContextDone: every read of a Collection returns at once,
// without looking at a point, under a context already done; stops at the
// first look after its context is done (the looks come every checkEvery
// points, so the work after cancelling is bounded); returns the context's
// error wrapped with the read's name; and answers as under Background when
// its context stays live.
func TestReadsStopWhenContextDone(t *testing.T) {
	const n = 6000
	c := readCollection(t, n)
	q := []float32{1, 0.5, -0.25, 0}
	unindexed := mustFilter(t, `{"must":[{"key":"g","match":{"value":3}}]}`) // evaluated point by point
	ids := make([]point.ID, n)
	for i := range ids {
		ids[i] = point.NumID(uint64(n - 1 - i))
	}
	cases := []struct {
		name, read string
		run        func(ctx context.Context) (any, error)
	}{
		{"exact search", "search", func(ctx context.Context) (any, error) {
			return c.Search(ctx, ops.SearchRequest{Vector: q, Limit: 10, Params: ops.SearchParams{Exact: true}})
		}},
		{"filtered search", "search", func(ctx context.Context) (any, error) {
			return c.Search(ctx, ops.SearchRequest{Vector: q, Limit: 10, Filter: unindexed})
		}},
		{"search by id", "search", func(ctx context.Context) (any, error) {
			id := point.NumID(5)
			return c.Search(ctx, ops.SearchRequest{QueryID: &id, Limit: 3, Offset: 2})
		}},
		{"scroll", "scroll", func(ctx context.Context) (any, error) {
			recs, next, err := c.Scroll(ctx, ops.ScrollRequest{Filter: unindexed, Limit: n})
			return [2]any{recs, next}, err
		}},
		{"ordered scroll", "scroll", func(ctx context.Context) (any, error) {
			recs, next, err := c.Scroll(ctx, ops.ScrollRequest{Filter: unindexed, Limit: 5, OrderBy: &ops.OrderBy{Key: "n", Desc: true}})
			return [2]any{recs, next}, err
		}},
		{"count", "count", func(ctx context.Context) (any, error) {
			return c.Count(ctx, ops.CountRequest{Filter: unindexed, Exact: true})
		}},
		{"facet", "facet", func(ctx context.Context) (any, error) {
			return c.Facet(ctx, ops.FacetRequest{Key: "kw", Limit: 10})
		}},
		{"retrieve", "retrieve", func(ctx context.Context) (any, error) {
			return c.Retrieve(ctx, ids, ops.PayloadSelector{Enable: true}, ops.VectorSelector{})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := must(tc.run(bg))
			never := newCountdown(t, int(^uint(0)>>1))
			got, err := tc.run(never)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("under a live context: %v; answer differs from Background's", err)
			}
			if never.calls() < 4 {
				t.Fatalf("the read looked at its context %d times; the case is too small to test stopping", never.calls())
			}
			for _, doneAt := range []int{1, 3} {
				ctx := newCountdown(t, doneAt)
				_, err := tc.run(ctx)
				if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), tc.read+" interrupted: ") {
					t.Fatalf("done at look %d: %v, want %q wrapping context.Canceled", doneAt, err, tc.read+" interrupted")
				}
				// Each shard stops at the first look that sees it done:
				// the others may each have looked once more.
				if got := ctx.calls(); got < doneAt || got > doneAt+testShards-1 {
					t.Fatalf("done at look %d: the read looked %d times over %d shards, want it to stop at the first look that saw it done", doneAt, got, testShards)
				}
			}
		})
	}
}

// TestReadDeadline: a read whose context has expired returns
// context.DeadlineExceeded (what the API layers map to a timeout).
func TestReadDeadline(t *testing.T) {
	c := readCollection(t, 10)
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	_, err := c.Search(ctx, ops.SearchRequest{Vector: []float32{1, 0, 0, 0}, Limit: 1})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want context.DeadlineExceeded", err)
	}
}
