package snapshot

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzReadArchive: the reader (Verify: Extract's every check, writing
// nothing) never panics, refuses only with errors matching ErrInvalid (it
// does no I/O of its own that could fail otherwise), and an archive it
// accepts lists exactly the files it holds.
func FuzzReadArchive(f *testing.F) {
	f.Add(write(f, map[string]string{"a": "hello", "d/b": "world"}, "a", "d/b"))
	f.Add(write(f, map[string]string{}))
	f.Add(raw(f, reg("../evil", "x")))
	f.Add(paxSparse())
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Verify(bytes.NewReader(data), Options{Limits: Limits{MaxFiles: 64, MaxBytes: 1 << 20, MaxManifest: 1 << 16}})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("refused with an error that is not ErrInvalid: %v", err)
			}
			return
		}
		if m == nil || m.Format != FormatVersion {
			t.Fatalf("accepted with manifest %+v", m)
		}
		for _, f := range m.Files {
			if checkName(f.Name) != nil {
				t.Fatalf("accepted unsafe name %q", f.Name)
			}
		}
	})
}
