package shard

import (
	"io"
	"time"

	"github.com/shoaldb/shoal/internal/fsutil"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/wal"
)

// seams are the parts of a shard that tests replace: the apply step, the
// WAL's file system, the atomic writes of segment files and manifests, the
// free-space reading and the clock of the optimizer's retries. Open uses
// the real ones; openWith takes others.
type seams struct {
	apply     func(t target, version uint64, op *ops.Operation) error
	walFS     wal.FS // nil: the operating system
	writeFile func(path string, write func(io.Writer) error) error
	freeSpace func(dir string) (bytes uint64, ok bool)
	now       func() time.Time
}

func defaultSeams() seams {
	return seams{apply: apply, writeFile: fsutil.WriteFileAtomic, freeSpace: fsutil.FreeSpace, now: time.Now}
}

// withDefaults fills the seams a test left nil.
func (sm seams) withDefaults() seams {
	d := defaultSeams()
	if sm.apply == nil {
		sm.apply = d.apply
	}
	if sm.writeFile == nil {
		sm.writeFile = d.writeFile
	}
	if sm.freeSpace == nil {
		sm.freeSpace = d.freeSpace
	}
	if sm.now == nil {
		sm.now = d.now
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
