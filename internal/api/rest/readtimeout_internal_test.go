package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestReadTimeoutText: a read its deadline stopped answers 408 with
// Qdrant's text, naming the operation the way Qdrant's shard does; reads
// that failed otherwise, or were cancelled by their client, keep their own
// answer.
func TestReadTimeoutText(t *testing.T) {
	stopped := fmt.Errorf("search interrupted: %w", context.DeadlineExceeded)
	for _, tc := range []struct {
		name     string
		err      error
		d        time.Duration
		code     int
		wantText string
	}{
		{"search", during("Search", stopped), time.Second, http.StatusRequestTimeout, "Timeout: Timeout error: Operation 'Search' timed out after 1s"},
		{"query scroll", during("Query scroll", stopped), 3 * time.Second, http.StatusRequestTimeout, "Timeout: Timeout error: Operation 'Query scroll' timed out after 3s"},
		{"scroll", during("scroll_by_id", stopped), 60 * time.Second, http.StatusRequestTimeout, "Timeout: Timeout error: Operation 'scroll_by_id' timed out after 60s"},
		{"ordered scroll", during("scroll_by_field", stopped), time.Second, http.StatusRequestTimeout, "Timeout: Timeout error: Operation 'scroll_by_field' timed out after 1s"},
		{"count", during("count", stopped), time.Second, http.StatusRequestTimeout, "Timeout: Timeout error: Operation 'count' timed out after 1s"},
		{"facet", during("facet", stopped), time.Second, http.StatusRequestTimeout, "Timeout: Timeout error: Operation 'facet' timed out after 1s"},
		{"retrieve", during("retrieve", stopped), 1500 * time.Millisecond, http.StatusRequestTimeout, "Timeout: Timeout error: Operation 'retrieve' timed out after 1.5s"},
		{"unnamed", stopped, 250 * time.Millisecond, http.StatusRequestTimeout, "Timeout: Timeout error: Operation 'Search' timed out after 250ms"},
		{"no timeout set", during("Search", stopped), 0, http.StatusRequestTimeout, "Timeout: search interrupted: context deadline exceeded"},
		{"client left", during("Search", fmt.Errorf("search interrupted: %w", context.Canceled)), time.Second, http.StatusInternalServerError, "Service internal error: search interrupted: context canceled"},
		{"bad input", during("Search", badRequest("Bad request: nope")), time.Second, http.StatusBadRequest, "Bad request: nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := readTimeout(tc.err, tc.d)
			if !errors.Is(err, errors.Unwrap(tc.err)) && errors.Unwrap(tc.err) != nil {
				t.Errorf("the mapped error lost its cause %v", tc.err)
			}
			if code, text := statusOf(err); code != tc.code || text != tc.wantText {
				t.Errorf("got %d %q, want %d %q", code, text, tc.code, tc.wantText)
			}
		})
	}
}
