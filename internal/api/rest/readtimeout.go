package rest

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// readContext is the context of a read route: the request's own (a client
// that disconnects cancels the work), bounded by ?timeout= seconds or, when
// absent, by Options.SearchTimeout (Qdrant's storage.performance.
// search_timeout_sec). It returns the bound applied, 0 for none.
func (s *Server) readContext(r *http.Request) (context.Context, context.CancelFunc, time.Duration, error) {
	d, err := queryTimeout(r)
	if err != nil {
		return nil, nil, 0, err
	}
	// The engine holds the client's own timeout against strict mode's
	// max_timeout; the server's default bound is not the client's.
	parent := ops.WithTimeout(r.Context(), d)
	if d == 0 {
		d = s.opts.SearchTimeout
	}
	if d <= 0 {
		ctx, cancel := context.WithCancel(parent)
		return ctx, cancel, 0, nil
	}
	ctx, cancel := context.WithTimeout(parent, d)
	return ctx, cancel, d, nil
}

// readOp names the operation a read error came from, in Qdrant's words:
// its timeout message names the shard operation that timed out ("Search",
// "Query scroll", "scroll_by_id", "scroll_by_field", "count", "facet",
// "retrieve").
type readOp struct {
	op  string
	err error
}

func (e *readOp) Error() string { return e.err.Error() }
func (e *readOp) Unwrap() error { return e.err }

// during tags a read's error with its Qdrant operation name; nil stays nil.
func during(op string, err error) error {
	if err == nil {
		return nil
	}
	return &readOp{op: op, err: err}
}

// readTimeout turns a read that its deadline stopped into Qdrant's answer:
// 408 "Timeout: Timeout error: Operation 'Search' timed out after 1s" (a
// CollectionError::Timeout, whose text StorageError::Timeout wraps once
// more). Other errors pass through.
func readTimeout(err error, d time.Duration) error {
	if d <= 0 || !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	op := "Search"
	var ro *readOp
	if errors.As(err, &ro) {
		op = ro.op
	}
	return &point.Error{Kind: point.KindTimeout, Err: err,
		Description: "Timeout error: Operation '" + op + "' timed out after " + rustDuration(d)}
}

// rustDuration formats d as Rust's Debug for std::time::Duration does for
// the whole seconds and milliseconds a timeout holds: "1s", "1.5s", "250ms".
func rustDuration(d time.Duration) string {
	if d >= time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64) + "ms"
}
