package segment

import (
	"runtime"

	"github.com/shoaldb/shoal/internal/vfs"
)

// mapping is a read-only view of a file's bytes (a memory map on the
// operating system's FS, the bytes on the heap on others). It is released
// when it becomes unreachable, so that no search can still read it.
type mapping struct {
	b     []byte
	unmap func() error
}

func mapFile(fsys vfs.FS, path string) (*mapping, error) {
	b, unmap, err := vfs.Map(fsys, path)
	if err != nil {
		return nil, err
	}
	m := &mapping{b: b, unmap: unmap}
	runtime.SetFinalizer(m, func(m *mapping) { _ = m.unmap() })
	return m, nil
}
