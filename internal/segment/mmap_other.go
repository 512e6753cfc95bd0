//go:build !unix

package segment

import "os"

// mapping holds a file's bytes; without mmap they are read into memory.
type mapping struct{ b []byte }

func mapFile(path string) (*mapping, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return &mapping{b: b}, nil
}
