package errkind

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestCorrupt(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		corrupt bool
		text    string
		wraps   error
	}{
		{"Corruptf", Corruptf("wal: corrupt: %s at offset %d", "f", 7), true, "wal: corrupt: f at offset 7", nil},
		{"Corruptf wrapping", Corruptf("hnsw: truncated: %w", io.ErrUnexpectedEOF), true, "hnsw: truncated: unexpected EOF", io.ErrUnexpectedEOF},
		{"wrapped by a higher layer", fmt.Errorf("load segment 3: %w", Corruptf("corrupt checkpoint: bad magic")), true, "load segment 3: corrupt checkpoint: bad magic", nil},
		{"MarkCorrupt", MarkCorrupt(io.ErrUnexpectedEOF), true, "unexpected EOF", io.ErrUnexpectedEOF},
		{"plain error", fmt.Errorf("read: %w", io.EOF), false, "read: EOF", io.EOF},
		{"MarkCorrupt nil", MarkCorrupt(nil), false, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := errors.Is(c.err, ErrCorrupt); got != c.corrupt {
				t.Fatalf("errors.Is(%v, ErrCorrupt) = %v, want %v", c.err, got, c.corrupt)
			}
			if c.err == nil {
				return
			}
			if c.err.Error() != c.text {
				t.Fatalf("text %q, want %q", c.err.Error(), c.text)
			}
			if c.wraps != nil && !errors.Is(c.err, c.wraps) {
				t.Fatalf("%v does not wrap %v", c.err, c.wraps)
			}
		})
	}
}
