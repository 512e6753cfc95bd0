package snapshot

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzReadArchive: Extract never panics, and refuses what it refuses with
// ErrInvalid or an I/O error of the target, never silently.
func FuzzReadArchive(f *testing.F) {
	f.Add(write(f, map[string]string{"a": "hello", "d/b": "world"}, "a", "d/b"))
	f.Add(write(f, map[string]string{}))
	f.Add(raw(f, reg("../evil", "x")))
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Extract(bytes.NewReader(data), t.TempDir(), Options{Limits: Limits{MaxFiles: 64, MaxBytes: 1 << 20, MaxManifest: 1 << 16}})
		if err == nil && m == nil {
			t.Fatal("nil manifest without error")
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Logf("non-format error: %v", err)
		}
	})
}
