package vfs

import "errors"

// ErrSyncFailed marks an error that comes from a failed fsync (of a file or
// of a directory) inside one of this package's recipes, or from a writer
// built on them that poisoned itself (internal/wal). After it the
// durable state of what was being written is unknown: the bytes may or may
// not be on disk, and on Linux a later fsync may succeed without them. A
// writer that meets it must not go on as if the write had happened nor as
// if it had not: it stops writing until it is reopened and recovery reads
// what really is on disk. Test with errors.Is.
var ErrSyncFailed = errors.New("fsync failed")

// syncError wraps the error of a failed fsync: it reads as that error and
// matches ErrSyncFailed as well.
type syncError struct{ err error }

func (e *syncError) Error() string        { return e.err.Error() }
func (e *syncError) Unwrap() error        { return e.err }
func (e *syncError) Is(target error) bool { return target == ErrSyncFailed }

// MarkSync marks err, the error of a failed fsync, with ErrSyncFailed; nil
// stays nil.
func MarkSync(err error) error {
	if err == nil || errors.Is(err, ErrSyncFailed) {
		return err
	}
	return &syncError{err: err}
}
