package rest

import (
	"errors"
	"fmt"
	"net/http"
	"syscall"
	"testing"

	"github.com/shoaldb/shoal/internal/shard"
)

// TestStatusOfOutOfDisk: a write refused for lack of disk space answers as
// Qdrant does, whatever wraps the refusal.
func TestStatusOfOutOfDisk(t *testing.T) {
	full := &shard.OutOfDiskError{Detail: "WAL buffer size exceeds available disk space"}
	enospc := &shard.OutOfDiskError{Detail: "wal: write x.wal: no space left on device", Err: syscall.ENOSPC}
	cases := []struct {
		name string
		err  error
		code int
		msg  string
	}{
		{"refused before the write", full, 500, "Service internal error: No space left on device: WAL buffer size exceeds available disk space"},
		{"wrapped", fmt.Errorf("collection %q: %w", "c", full), 500, "Service internal error: No space left on device: WAL buffer size exceeds available disk space"},
		{"the write ran out of space", enospc, 500, "Service internal error: No space left on device: wal: write x.wal: no space left on device"},
		{"closed shard keeps its mapping", shard.ErrClosed, http.StatusServiceUnavailable, "Service internal error: shard is closed"},
		{"other errors keep theirs", errors.New("boom"), 500, "Service internal error: boom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, msg := statusOf(c.err)
			if code != c.code || msg != c.msg {
				t.Fatalf("statusOf = %d %q, want %d %q", code, msg, c.code, c.msg)
			}
		})
	}
}
