//go:build unix

package segment

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// mapping is a read-only memory map of a file. It is unmapped when it
// becomes unreachable, so that no search can still read it.
type mapping struct{ b []byte }

func mapFile(path string) (*mapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() == 0 {
		return &mapping{}, nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap %s: %w", path, err)
	}
	m := &mapping{b: b}
	runtime.SetFinalizer(m, func(m *mapping) { _ = syscall.Munmap(m.b) })
	return m, nil
}
