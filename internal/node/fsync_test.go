package node

import (
	"context"
	"errors"
	"slices"
	"syscall"
	"testing"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
	"github.com/shoaldb/shoal/internal/vfs"
	"github.com/shoaldb/shoal/internal/vfs/vfstest"
)

// TestNodeFsyncFailure: a failed fsync under a whole node. Below a shard
// (its WAL) it stops that shard's writes with shard.ErrUnusable while the
// node goes on (reads, and the metadata of other collections); below the
// node's metadata files (a collection's configuration) the operation fails
// and nothing builds on the doubtful file (it is written whole, fsynced
// again, by the next change). Either way the node reopens, after a kill
// and after a power loss, with every acknowledged step.
func TestNodeFsyncFailure(t *testing.T) {
	const root = "/node"
	ctx := context.Background()
	upsert := func(n *Node, id uint64) error {
		c, err := n.Collection("a")
		if err != nil {
			return err
		}
		_, err = c.Update(ctx, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(id), Vectors: point.Vectors{"": {1, 2, 3, 4}}}}}, true)
		return err
	}
	cases := []struct {
		name  string
		match func(string) bool
		// step runs under the fault; it must fail.
		step func(n *Node) error
		// refused: the next upsert into a is refused with ErrUnusable.
		refused bool
	}{
		{"shard WAL", vfstest.WALFiles, func(n *Node) error { return upsert(n, 2) }, true},
		{"collection config", vfstest.MetadataFiles, func(n *Node) error { return n.CreateCollection(ctx, "b", createReq(t, vec4)) }, false},
		{"collections directory", func(p string) bool { return p == collectionsDir(root) }, func(n *Node) error { return n.CreateCollection(ctx, "b", createReq(t, vec4)) }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mem := vfstest.NewMem()
			fsys := vfstest.Wrap(mem)
			opts := testOptions(root)
			opts.FS = fsys
			n, err := Open(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			if err := n.CreateCollection(ctx, "a", createReq(t, vec4)); err != nil {
				t.Fatal(err)
			}
			if err := upsert(n, 1); err != nil {
				t.Fatal(err)
			}
			fsys.FailSync(c.match, syscall.EIO, vfstest.Once)
			err = c.step(n)
			if !errors.Is(err, syscall.EIO) || c.refused && !errors.Is(err, vfs.ErrSyncFailed) {
				t.Fatalf("the step under the fault: %v, want the fsync failure", err)
			}
			err = upsert(n, 3)
			if c.refused != errors.Is(err, shard.ErrUnusable) || !c.refused && err != nil {
				t.Fatalf("an upsert after the fault: %v (refusal expected: %t)", err, c.refused)
			}
			acked := []string{"a"}
			if err := n.CreateCollection(ctx, "c", createReq(t, vec4)); err != nil {
				t.Fatalf("metadata after the fault: %v", err)
			}
			acked = append(acked, "c")
			if c, err := n.Collection("a"); err != nil {
				t.Fatal(err)
			} else if info, err := c.Info(); err != nil || info.PointsCount < 1 {
				t.Fatalf("reads after the fault: %v, %+v", err, info)
			}
			fsys.Crash()
			n.Close()
			for _, image := range []struct {
				name string
				fs   *vfstest.MemFS
			}{{"power loss", mem.CrashClone()}, {"kill", mem}} {
				opts := testOptions(root)
				opts.FS = image.fs
				re, err := Open(opts)
				if err != nil {
					t.Fatalf("%s: reopen: %v", image.name, err)
				}
				got := re.Collections()
				for _, name := range acked {
					if !slices.Contains(got, name) {
						re.Close()
						t.Fatalf("%s: collections %v, lost %s", image.name, got, name)
					}
				}
				want := uint64(1)
				if !c.refused {
					want = 2 // upsert 3 was acknowledged
				}
				if c, err := re.Collection("a"); err != nil {
					t.Fatal(err)
				} else if info, err := c.Info(); err != nil || info.PointsCount < want {
					t.Fatalf("%s: collection a: %v, %d points, want at least %d", image.name, err, info.PointsCount, want)
				}
				if err := func() error {
					cc, err := re.Collection("a")
					if err != nil {
						return err
					}
					_, err = cc.Update(ctx, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(9), Vectors: point.Vectors{"": {1, 2, 3, 4}}}}}, true)
					return err
				}(); err != nil {
					t.Fatalf("%s: an upsert after reopening: %v", image.name, err)
				}
				re.Close()
			}
		})
	}
}
