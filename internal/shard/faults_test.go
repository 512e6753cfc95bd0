package shard

import (
	"context"
	"errors"
	"io"
	"slices"
	"syscall"
	"testing"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/vfs"
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

// TestDamagedShardFilesAreCorrupt: a manifest or deletes file that fails
// its checks is reported with the one corruption marker.
func TestDamagedShardFilesAreCorrupt(t *testing.T) {
	good := encodeDeletes([]uint32{1, 5})
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 1
	cases := []struct {
		name     string
		manifest string // written as the manifest when set
		deletes  []byte // decoded when manifest is empty
	}{
		{name: "manifest not JSON", manifest: "{segments"},
		{name: "manifest names a path outside", manifest: `{"version":1,"segments":[{"id":1,"data":"../x"}]}`},
		{name: "manifest names a bad vector file", manifest: `{"version":1,"segments":[{"id":1,"data":"1-1.seg","vectors":{"":"a/b"}}]}`},
		{name: "deletes file flipped", deletes: flipped},
		{name: "deletes file cut", deletes: good[:len(good)-3]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.manifest != "" {
				mem := vfstest.NewMem()
				if err := vfs.WriteFileAtomic(mem, "/"+manifestFile, func(w io.Writer) error {
					_, err := io.WriteString(w, c.manifest)
					return err
				}); err != nil {
					t.Fatal(err)
				}
				_, err = readManifest(mem, "/")
			} else {
				_, err = decodeDeletes(c.deletes)
			}
			if !errors.Is(err, errkind.ErrCorrupt) {
				t.Fatalf("err = %v, want errkind.ErrCorrupt", err)
			}
		})
	}
	if offs, err := decodeDeletes(good); err != nil || !slices.Equal(offs, []uint32{1, 5}) {
		t.Fatalf("intact deletes file: %v, %v", offs, err)
	}
}
