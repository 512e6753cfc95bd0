package strict

import (
	"fmt"
	"math"
	"time"
)

// bucket is Qdrant's RateLimiter: a token bucket holding at most one
// minute's worth of tokens (the limit per minute), refilled continuously at
// limit/60 tokens a second, full when created so that a burst passes at
// first. A request takes as many tokens as it costs, or none.
type bucket struct {
	capacity float64 // tokens per minute, the most the bucket holds
	perSec   float64
	tokens   float64
	last     time.Time
}

func newBucket(perMinute uint64, now time.Time) *bucket {
	c := float64(perMinute)
	return &bucket{capacity: c, perSec: c / 60, tokens: c, last: now}
}

// take consumes cost tokens at now. It refuses a cost above the capacity
// without looking at the tokens (it can never pass), and otherwise reports
// the tokens there were and how long until there are enough.
func (b *bucket) take(cost uint64, now time.Time, kind string) error {
	c := float64(cost)
	if c > b.capacity {
		return &RateLimitError{Description: kind + " rate limit exceeded, request larger than rate limiter capacity, please try to split your request"}
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = math.Min(b.capacity, b.tokens+b.perSec*elapsed.Seconds())
	}
	b.last = now
	if b.tokens >= c {
		b.tokens -= c
		return nil
	}
	retry := max(time.Duration((c-b.tokens)/b.perSec*float64(time.Second)), time.Nanosecond)
	e := &RateLimitError{RetryAfter: retry}
	e.Description = fmt.Sprintf("%s rate limit exceeded: Operation requires %d tokens but only %.1f were available. Retry after %ds",
		kind, cost, b.tokens, e.RetryAfterSeconds())
	return e
}

// give returns tokens taken for work that was then not done.
func (b *bucket) give(cost uint64) {
	b.tokens = math.Min(b.capacity, b.tokens+float64(cost))
}
