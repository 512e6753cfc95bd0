package ops

import (
	"context"
	"time"
)

// timeoutKey is the context key of a request's own timeout.
type timeoutKey struct{}

// WithTimeout returns ctx carrying the timeout the client asked for (the
// `timeout` parameter of Qdrant's read and update routes). It does not bound
// ctx: the API sets the deadline. The engine reads it back with Timeout to
// hold it against strict mode's max_timeout, which concerns what the client
// asked for, not the server's default bound (a request without a timeout is
// not checked, as in Qdrant).
func WithTimeout(ctx context.Context, d time.Duration) context.Context {
	if d <= 0 {
		return ctx
	}
	return context.WithValue(ctx, timeoutKey{}, d)
}

// Timeout returns the timeout the client asked for, and false when it asked
// for none.
func Timeout(ctx context.Context) (time.Duration, bool) {
	d, ok := ctx.Value(timeoutKey{}).(time.Duration)
	return d, ok
}
