package strict

import (
	"errors"
	"testing"
	"time"
)

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func newFakeClock() *fakeClock               { return &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }
func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// TestBucket drives Qdrant's token bucket with a fake clock: a full bucket
// to start, a continuous refill of limit/60 tokens a second up to the
// limit, a request above the capacity refused for good, and the texts and
// retry delays of Qdrant's rate limit tests.
func TestBucket(t *testing.T) {
	type step struct {
		advance time.Duration // before the take; negative rewinds the clock
		cost    uint64
		err     string        // "" when the take passes
		retry   time.Duration // the RetryAfter rounded up to seconds
	}
	for _, tc := range []struct {
		name  string
		rate  uint64
		steps []step
	}{
		{"one a minute", 1, []step{
			{cost: 1},
			{cost: 1, err: "Write rate limit exceeded: Operation requires 1 tokens but only 0.0 were available. Retry after 60s", retry: 60 * time.Second},
			{advance: 59 * time.Second, cost: 1, err: "Operation requires 1 tokens but only 1.0 were available. Retry after 1s", retry: time.Second},
			{advance: time.Second, cost: 1},
		}},
		{"larger than capacity", 10, []step{
			{cost: 11, err: "Write rate limit exceeded, request larger than rate limiter capacity, please try to split your request"},
			{cost: 10},
			{cost: 10, err: "Write rate limit exceeded: Operation requires 10 tokens but only 0.0 were available. Retry after 60s", retry: 60 * time.Second},
		}},
		{"small replenish", 60, append(repeat(step{cost: 1}, 60),
			step{cost: 1, err: "Retry after 1s", retry: time.Second})},
		{"refill is continuous", 60, []step{
			{cost: 60},
			{advance: 30 * time.Second, cost: 31, err: "Operation requires 31 tokens but only 30.0 were available. Retry after 1s", retry: time.Second},
			{cost: 30},
			{cost: 1, err: "only 0.0 were available", retry: time.Second},
		}},
		{"refill stops at the capacity", 4, []step{
			{cost: 4},
			{advance: time.Hour, cost: 5, err: "request larger than rate limiter capacity"},
			{cost: 4},
			{cost: 1, err: "Retry after 15s", retry: 15 * time.Second},
		}},
		{"a clock going back refills nothing", 6, []step{
			{cost: 6},
			{advance: -time.Minute, cost: 1, err: "only 0.0 were available", retry: 10 * time.Second},
			{advance: 10 * time.Second, cost: 1},
		}},
		{"free requests pass an empty bucket", 1, []step{
			{cost: 1},
			{cost: 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			b := newBucket(tc.rate, clk.now())
			for i, s := range tc.steps {
				clk.advance(s.advance)
				err := b.take(s.cost, clk.now(), "Write")
				if s.err == "" {
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					continue
				}
				var rl *RateLimitError
				if !errors.As(err, &rl) || !contains(rl.Description, s.err) {
					t.Fatalf("step %d: err = %v, want %q", i, err, s.err)
				}
				if got := time.Duration(rl.RetryAfterSeconds()) * time.Second; got != s.retry {
					t.Fatalf("step %d: retry after %v, want %v", i, got, s.retry)
				}
			}
		})
	}
}

func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestBucketGive(t *testing.T) {
	clk := newFakeClock()
	b := newBucket(10, clk.now())
	if err := b.take(8, clk.now(), "Write"); err != nil {
		t.Fatal(err)
	}
	b.give(8)
	b.give(8) // never above the capacity
	if err := b.take(10, clk.now(), "Write"); err != nil {
		t.Fatalf("after give: %v", err)
	}
	if err := b.take(1, clk.now(), "Write"); err == nil {
		t.Fatal("the bucket held more than its capacity")
	}
}
