package shard

import (
	"io"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/vfs"
)

// seams are the parts of a shard that tests replace: the apply step, the
// atomic writes of segment files and manifests, the free-space reading and
// the clock of the optimizer's retries. Open uses the real ones; openWith
// takes others. The file system itself is Options.FS.
type seams struct {
	apply     func(t target, version uint64, op *ops.Operation) error
	writeFile func(path string, write func(io.Writer) error) error
	freeSpace func(dir string) (bytes uint64, ok bool)
	now       func() time.Time
}

// withDefaults fills the seams a test left nil; the file steps go to fsys.
func (sm seams) withDefaults(fsys vfs.FS) seams {
	if sm.apply == nil {
		sm.apply = apply
	}
	if sm.writeFile == nil {
		sm.writeFile = func(path string, write func(io.Writer) error) error {
			return vfs.WriteFileAtomic(fsys, path, write)
		}
	}
	if sm.freeSpace == nil {
		sm.freeSpace = fsys.FreeSpace
	}
	if sm.now == nil {
		sm.now = time.Now
	}
	return sm
}

// backoff is the wait before the attempt that follows n consecutive
// failures (n >= 1): one second, doubling, at most a minute.
func backoff(n int) time.Duration {
	const first, limit = time.Second, time.Minute
	d := first
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
