package segment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
)

// countdownCtx reports itself cancelled from its doneAt-th Err call on, and
// counts the calls: a read that looks every checkEvery points is cancelled
// after a known amount of work, with no clock involved.
type countdownCtx struct {
	context.Context // never done, but its Done channel is not nil
	calls, doneAt   int
}

func (c *countdownCtx) Err() error {
	c.calls++
	if c.calls >= c.doneAt {
		return context.Canceled
	}
	return nil
}

func newCountdown(t *testing.T, doneAt int) *countdownCtx {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &countdownCtx{Context: ctx, doneAt: doneAt}
}

// TestReadsStopWhenContextDone: each read of a Store looks at its context
// before any work and then every checkEvery points (a graph walk inside
// hnsw, every checkEvery evaluations), and returns the context's error at
// the first look that finds it done; a context that is never done changes
// nothing in the answer.
func TestReadsStopWhenContextDone(t *testing.T) {
	const n, dim = 6000, 8
	r := rand.New(rand.NewPCG(7, 7))
	s := NewStore(map[string]VectorSpec{"": {Dim: dim, Distance: vector.Cosine}})
	s.SetIndexParams("", IndexParams{M: 16, EfConstruct: 32, IndexingThreshold: 100, FullScanThreshold: 50, Seed: 1})
	for i := range n {
		s.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"": randUnit(r, dim)}, point.Payload{
			"g": json.Number(fmt.Sprint(i % 10)), "kw": fmt.Sprintf("k%d", i%7), "n": json.Number(fmt.Sprint(i)),
		})
	}
	for key, schema := range map[string]string{"kw": `"keyword"`, "n": `"integer"`} {
		if err := s.CreateIndex(key, json.RawMessage(schema)); err != nil {
			t.Fatal(err)
		}
	}
	linkAll(t, s)
	for i := n; i < n+3*checkEvery; i++ { // pending: searched by scanning after the walk
		s.Upsert(point.NumID(uint64(i)), 2, point.Vectors{"": randUnit(r, dim)}, point.Payload{"g": json.Number("3")})
	}
	s.PrepareRead()
	q := randUnit(r, dim)
	unindexed := mustFilter(`{"must":[{"key":"g","match":{"value":3}}]}`) // matched point by point
	cases := []struct {
		name string
		run  func(ctx context.Context) (any, error)
	}{
		{"exact search", func(ctx context.Context) (any, error) {
			return s.Search(ctx, SearchParams{Vector: "", Query: q, Limit: 10, Exact: true})
		}},
		{"graph search", func(ctx context.Context) (any, error) {
			return s.Search(ctx, SearchParams{Vector: "", Query: q, Limit: 10, HnswEf: 2000})
		}},
		{"graph search, pending scan", func(ctx context.Context) (any, error) {
			return s.Search(ctx, SearchParams{Vector: "", Query: q, Limit: 10, HnswEf: 10})
		}},
		{"count", func(ctx context.Context) (any, error) { return s.Count(ctx, unindexed) }},
		{"scroll", func(ctx context.Context) (any, error) {
			recs, next, err := s.Scroll(ctx, unindexed, nil, n, nil)
			return [2]any{recs, next}, err
		}},
		{"facet", func(ctx context.Context) (any, error) { return s.Facet(ctx, "kw", nil, 10) }},
		{"ordered scroll", func(ctx context.Context) (any, error) {
			return s.ScrollOrdered(ctx, unindexed, "n", true, nil, 5, nil)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := must(c.run(bg))
			never := newCountdown(t, int(^uint(0)>>1))
			got, err := c.run(never)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("under a live context: %v, %v; want %v", got, err, want)
			}
			if never.calls < 4 {
				t.Fatalf("the read looked at its context %d times; the case is too small to test stopping", never.calls)
			}
			for _, doneAt := range []int{1, 3} {
				ctx := newCountdown(t, doneAt)
				if _, err := c.run(ctx); !errors.Is(err, context.Canceled) {
					t.Fatalf("done at look %d: %v, want context.Canceled", doneAt, err)
				}
				if ctx.calls != doneAt {
					t.Fatalf("done at look %d: the read looked %d times, want it to stop at the first look that saw it done", doneAt, ctx.calls)
				}
			}
		})
	}
}

// TestPollNeverLooksAtBackground: a context that can never be done is
// never looked at.
func TestPollNeverLooksAtBackground(t *testing.T) {
	p := newPoll(context.Background())
	for range 10 * checkEvery {
		if p.tick() {
			t.Fatal("stopped")
		}
	}
	if p.ctx != nil || p.err != nil {
		t.Fatalf("poll of Background: %+v", p)
	}
}
