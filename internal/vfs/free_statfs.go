//go:build linux || darwin || freebsd

package vfs

import "syscall"

// freeSpace returns the bytes an unprivileged process may still write on
// the file system holding path; false when it cannot be read.
func freeSpace(path string) (uint64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}
