package shard

import (
	"context"
	"errors"
	"slices"
	"syscall"
	"testing"

	"github.com/shoaldb/shoal/internal/vfs/vfstest"
)

// TestShardFileFaults puts vfstest.FaultFS under a whole shard: each fault
// fails the update it hits (and, for a sticky fsync failure, every later
// one), and a reopen finds every update acknowledged before it.
func TestShardFileFaults(t *testing.T) {
	cases := []struct {
		name   string
		inject func(f *vfstest.FaultFS)
		// after the fault: does the next update succeed, and does the shard
		// close cleanly?
		recovers bool
		want     error
	}{
		{"disk full by the FS's count", func(f *vfstest.FaultFS) { f.SetFree(100) }, false, ErrOutOfDisk},
		{"short WAL write", func(f *vfstest.FaultFS) { f.ShortWrite(vfstest.PathContains("/wal/"), nil) }, true, nil},
		{"WAL fsync fails once", func(f *vfstest.FaultFS) { f.FailSync(vfstest.PathContains("/wal/"), syscall.EIO, vfstest.Once) }, false, syscall.EIO},
		{"WAL fsync fails for good", func(f *vfstest.FaultFS) { f.FailSync(vfstest.PathContains("/wal/"), syscall.EIO, vfstest.Sticky) }, false, syscall.EIO},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			const dir = "/shard"
			ctx := context.Background()
			mem := vfstest.NewMem()
			fsys := vfstest.Wrap(mem)
			sh, err := Open(dir, crashOptions(fsys))
			if err != nil {
				t.Fatal(err)
			}
			sh.Start()
			defer sh.Close()
			if _, err := sh.Update(ctx, upsertOp(1, 1, 1), true); err != nil {
				t.Fatal(err)
			}
			c.inject(fsys)
			_, err = sh.Update(ctx, upsertOp(2, 2, 2), true)
			if err == nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("update under the fault: %v, want %v", err, c.want)
			}
			acked := []string{"1"}
			_, err = sh.Update(ctx, upsertOp(3, 3, 3), true)
			if c.recovers {
				if err != nil {
					t.Fatalf("update after the fault: %v", err)
				}
				acked = append(acked, "3")
			} else if err == nil {
				// A failed WAL fsync leaves the log in doubt: it takes
				// nothing more until reopened.
				t.Fatal("update after a failed fsync succeeded")
			}
			fsys.Unlimit()
			cerr := sh.Close()
			if c.recovers && cerr != nil {
				t.Fatalf("close: %v", cerr)
			}
			re, err := Open(dir, crashOptions(mem.CrashClone()))
			if err != nil {
				t.Fatal(err)
			}
			defer re.Close()
			got := ids(re)
			for _, id := range acked {
				if !slices.Contains(got, id) {
					t.Fatalf("after reopen: points %v, lost acknowledged %s", got, id)
				}
			}
		})
	}
}
