package hnsw

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/vector"
)

// countdownCtx reports itself cancelled from its doneAt-th Err call on, and
// counts the calls: a search that looks every checkEvery units of work is
// cancelled after a known amount of it, with no clock involved.
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

// countScorer is a float32 Scorer over flat storage that counts its
// distance evaluations: the work a search did.
type countScorer struct {
	f     *flat
	q     []float32
	evals *int
}

func (s countScorer) Dist(off uint32) float32 {
	*s.evals++
	return vector.SquaredL2(s.q, s.f.Vector(off))
}

// stopGraph is a graph large enough that every search below looks at its
// context several times, with payload links over the points off%4 == 0.
func stopGraph(t *testing.T) (*Graph, *flat) {
	const n, dim = 6000, 8
	vecs := manifold(31, n, dim, vector.Euclid)
	g := mustBuild(t, Config{M: 16, EfConstruct: 64, PayloadM: 8, Distance: vector.Euclid, Dim: dim, Seed: 31}, vecs, seq(n), 2)
	var block []uint32
	for off := uint32(0); off < n; off += 4 {
		block = append(block, off)
	}
	if err := g.BuildPayloadLinks(context.Background(), []PayloadBlock{{Label: "quarter", Offsets: block}}, 2, nil); err != nil {
		t.Fatal(err)
	}
	return g, vecs
}

// TestSearchStopsWhenContextDone: every search entry point looks at its
// context before any work and then every checkEvery units of it, and
// returns the context's error at the first look that finds it done; a
// context that is never done changes nothing in the results.
func TestSearchStopsWhenContextDone(t *testing.T) {
	g, vecs := stopGraph(t)
	q := vecs.Vector(17)
	quarter := func(off uint32) bool { return off%4 == 0 }
	rare := func(off uint32) bool { return off%97 == 0 } // the walk gives up for a scan
	var evals int
	sc := countScorer{f: vecs, q: q, evals: &evals}
	cases := []struct {
		name string
		run  func(ctx context.Context) ([]Result, error)
	}{
		{"walk", func(ctx context.Context) ([]Result, error) { return g.Search(ctx, q, 10, 1500, nil) }},
		{"filtered walk", func(ctx context.Context) ([]Result, error) { return g.Search(ctx, q, 10, 1500, hashAllow(3)) }},
		{"walk then scan", func(ctx context.Context) ([]Result, error) { return g.Search(ctx, q, 10, 64, rare) }},
		{"exact", func(ctx context.Context) ([]Result, error) { return g.SearchExact(ctx, q, 10, nil) }},
		{"scorer walk", func(ctx context.Context) ([]Result, error) { return g.SearchScorer(ctx, sc, 10, 1500, nil) }},
		{"scorer exact", func(ctx context.Context) ([]Result, error) { return g.SearchExactScorer(ctx, sc, 10, quarter) }},
		{"payload block", func(ctx context.Context) ([]Result, error) { return g.SearchPayloadBlock(ctx, q, 10, 1500, quarter) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := must(c.run(bg))
			never := newCountdown(t, int(^uint(0)>>1))
			got, err := c.run(never)
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("under a live context: %v, %v; want %v", got, err, want)
			}
			if never.calls < 4 {
				t.Fatalf("the search looked at its context %d times; the case is too small to test stopping", never.calls)
			}
			for _, doneAt := range []int{1, 3} {
				ctx := newCountdown(t, doneAt)
				res, err := c.run(ctx)
				if !errors.Is(err, context.Canceled) || res != nil {
					t.Fatalf("done at look %d: %d results, %v; want context.Canceled", doneAt, len(res), err)
				}
				if ctx.calls != doneAt {
					t.Fatalf("done at look %d: the search looked %d times, want it to stop at the first look that saw it done", doneAt, ctx.calls)
				}
			}
		})
	}
}

// TestStoppedSearchWorkIsBounded counts the distance evaluations of
// searches cancelled at their second look: at most checkEvery (plus one
// expansion of up to 2M neighbours, and the upper levels' greedy descent,
// which does not look) after the first, against many times that for the
// same search run to the end.
func TestStoppedSearchWorkIsBounded(t *testing.T) {
	g, vecs := stopGraph(t)
	var evals int
	sc := countScorer{f: vecs, q: vecs.Vector(99), evals: &evals}
	const slack = 2*16 + 256 // one level-0 expansion, the greedy descent
	most := func(off uint32) bool { return off%10 != 0 }
	for _, c := range []struct {
		name string
		run  func(ctx context.Context) ([]Result, error)
	}{
		{"walk", func(ctx context.Context) ([]Result, error) { return g.SearchScorer(ctx, sc, 10, 2000, nil) }},
		{"filtered walk", func(ctx context.Context) ([]Result, error) { return g.SearchScorer(ctx, sc, 10, 400, most) }},
		{"exact", func(ctx context.Context) ([]Result, error) { return g.SearchExactScorer(ctx, sc, 10, nil) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			evals = 0
			must(c.run(bg))
			full := evals
			evals = 0
			if _, err := c.run(newCountdown(t, 2)); !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v, want context.Canceled", err)
			}
			t.Logf("%d distance evaluations when cancelled at the second look, %d to the end", evals, full)
			if bound := checkEvery + slack; evals > bound || full < 3*bound {
				t.Fatalf("%d evaluations after cancelling (bound %d), %d uncancelled", evals, bound, full)
			}
		})
	}
}

// TestStopCheckZeroValueNeverStops: the stop check of links and builds (the
// zero value) and of a context that can never be done never looks at a
// context, so the walks they run are the same as before.
func TestStopCheckZeroValueNeverStops(t *testing.T) {
	for _, c := range []struct {
		name string
		st   stopCheck
	}{
		{"zero", stopCheck{}},
		{"background", newStopCheck(context.Background())},
		{"nil", newStopCheck(nil)},
	} {
		t.Run(fmt.Sprint(c.name), func(t *testing.T) {
			for range 10 * checkEvery {
				if c.st.spend(7) {
					t.Fatal("stopped")
				}
			}
			if c.st.err != nil {
				t.Fatal(c.st.err)
			}
		})
	}
}
