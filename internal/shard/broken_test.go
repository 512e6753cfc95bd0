package shard

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"
	"github.com/shoaldb/shoal/internal/vfs/vfstest"
)

// TestFsyncFailureStopsWrites: an fsync that fails anywhere under a shard
// (its WAL, a segment file, the manifest, the directory whose fsync makes
// the manifest's rename durable), once or for good, stops the shard's
// writes: every later update is refused with ErrUnusable (carrying the
// fsync's error), reads of what was written before go on, and both a
// restart of the process (the files as they are) and a power loss (only
// what was fsynced) reopen the shard with every acknowledged point and no
// refused one, and the reopened shard takes writes again.
func TestFsyncFailureStopsWrites(t *testing.T) {
	const dir = "/shard"
	shardDir := func(p string) bool { return p == dir }
	cases := []struct {
		name  string
		match func(string) bool
		mode  vfstest.Mode
	}{
		{"WAL once", vfstest.WALFiles, vfstest.Once},
		{"WAL sticky", vfstest.WALFiles, vfstest.Sticky},
		{"segment file once", vfstest.SegmentFiles, vfstest.Once},
		{"manifest once", vfstest.PathContains("segments.json"), vfstest.Once},
		{"manifest's directory once", shardDir, vfstest.Once},
		{"manifest's directory sticky", shardDir, vfstest.Sticky},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			mem := vfstest.NewMem()
			fsys := vfstest.Wrap(mem)
			opts := func(f *vfstest.MemFS) Options {
				o := crashOptions(fsys)
				if f != nil {
					o.FS = f
				}
				o.CheckpointWAL = 1 // a checkpoint after every update
				return o
			}
			sh, err := Open(dir, opts(nil))
			if err != nil {
				t.Fatal(err)
			}
			sh.Start()
			defer sh.Close()
			var acked []string
			send := func(id uint64) error {
				_, err := sh.Update(ctx, upsertOp(id, float32(id), 1), true)
				if err == nil {
					acked = append(acked, strconv.FormatUint(id, 10))
				}
				return err
			}
			if err := send(1); err != nil {
				t.Fatal(err)
			}
			fsys.FailSync(c.match, syscall.EIO, c.mode)
			// The failing fsync is the WAL's in the next update, or a
			// checkpoint's after one: send until the shard refuses.
			next := uint64(2)
			var refusal error
			testkit.Eventually(t, "an update refused after the fsync failure", 10*time.Second, func() error {
				err := send(next)
				next++
				if err == nil {
					return errors.New("accepted")
				}
				refusal = err
				return nil
			})
			if errors.Is(refusal, syscall.EIO) && !errors.Is(refusal, ErrUnusable) {
				// The update whose own fsync failed: its outcome is
				// unknown. The next one must be refused.
				uerr := send(next)
				next++
				refusal = uerr
			}
			if !errors.Is(refusal, ErrUnusable) || !errors.Is(refusal, syscall.EIO) {
				t.Fatalf("update after the fsync failure: %v, want ErrUnusable carrying EIO", refusal)
			}
			refused := strconv.FormatUint(next-1, 10)
			for range 3 {
				if err := send(next); !errors.Is(err, ErrUnusable) {
					t.Fatalf("a later update: %v, want ErrUnusable", err)
				}
				next++
			}
			if got := ids(sh); !containsAll(got, acked) {
				t.Fatalf("reads after the failure: %v, want %v", got, acked)
			}
			sh.Close()
			for _, image := range []struct {
				name string
				fs   *vfstest.MemFS
			}{{"restart", mem}, {"power loss", mem.CrashClone()}} {
				re, err := Open(dir, opts(image.fs))
				if err != nil {
					t.Fatalf("%s: reopen: %v", image.name, err)
				}
				re.Start()
				got := ids(re)
				if !containsAll(got, acked) || slices.Contains(got, refused) {
					re.Close()
					t.Fatalf("%s: reopened with %v; acknowledged %v, refused %s", image.name, got, acked, refused)
				}
				if _, err := re.Update(ctx, upsertOp(1000, 1, 1), true); err != nil {
					re.Close()
					t.Fatalf("%s: an update after reopening: %v", image.name, err)
				}
				re.Close()
			}
		})
	}
}

func containsAll(got, want []string) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}
