//go:build !unix

package vfs

import "os"

// mapFile reads the file: without mmap its bytes live on the heap.
func mapFile(name string) ([]byte, func() error, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return nil }, nil
}
