package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
	"github.com/shoaldb/shoal/internal/snapshot"
	"github.com/shoaldb/shoal/internal/vfs"
)

// Shard snapshots (Qdrant's /collections/{c}/shards/{id}/snapshots): files
// <snapshots_path>/<collection>/shards/<id>/<collection>-shard-<id>-<peer
// id>-<time>.snapshot with .checksum beside, archives of kind shard of one
// local shard; recovery replaces that local shard's data
// (collection.RestoreShard) after the archive was extracted and checked.

func (n *Node) shardSnapshotsDir(name string, id collection.ShardID) string {
	return filepath.Join(n.collectionSnapshotsDir(name), "shards", strconv.FormatUint(uint64(id), 10))
}

func (n *Node) localShardCollection(name string, id collection.ShardID) (*collection.Collection, error) {
	c, err := n.Collection(name)
	if err != nil {
		return nil, err
	}
	if err := c.HasLocalShard(id); err != nil {
		return nil, err
	}
	return c, nil
}

// CreateShardSnapshot writes a snapshot of local shard id of a collection.
func (n *Node) CreateShardSnapshot(ctx context.Context, name string, id collection.ShardID) (*SnapshotDescription, error) {
	c, err := n.localShardCollection(name, id)
	if err != nil {
		return nil, err
	}
	name = c.Name()
	file := fmt.Sprintf("%s-shard-%d-%d-%s.snapshot", name, id, n.peerID(), time.Now().UTC().Format("2006-01-02-15-04-05"))
	return n.writeSnapshot(n.shardSnapshotsDir(name, id), file, snapshot.KindShard, "collection", name, func(w *snapshot.Writer) (any, error) {
		return c.ShardSnapshot(ctx, id, w)
	})
}

// StreamShardSnapshot writes a fresh snapshot of local shard id to w
// without keeping a file (GET .../shards/{id}/snapshot).
func (n *Node) StreamShardSnapshot(ctx context.Context, name string, id collection.ShardID, w io.Writer) error {
	c, err := n.localShardCollection(name, id)
	if err != nil {
		return err
	}
	sw := snapshot.NewWriter(w, snapshot.KindShard, nil)
	meta, err := c.ShardSnapshot(ctx, id, sw)
	if err != nil {
		return err
	}
	_, err = sw.Close(meta)
	return err
}

// ListShardSnapshots describes the snapshots of shard id.
func (n *Node) ListShardSnapshots(name string, id collection.ShardID) ([]SnapshotDescription, error) {
	c, err := n.localShardCollection(name, id)
	if err != nil {
		return nil, err
	}
	return listSnapshots(n.shardSnapshotsDir(c.Name(), id))
}

// ShardSnapshotFile is the path of a snapshot of shard id.
func (n *Node) ShardSnapshotFile(name string, id collection.ShardID, file string) (string, error) {
	c, err := n.localShardCollection(name, id)
	if err != nil {
		return "", err
	}
	return snapshotPath(n.shardSnapshotsDir(c.Name(), id), file)
}

// DeleteShardSnapshot removes a snapshot of shard id.
func (n *Node) DeleteShardSnapshot(name string, id collection.ShardID, file string) error {
	p, err := n.ShardSnapshotFile(name, id, file)
	if err != nil {
		return err
	}
	return removeSnapshot(p)
}

// RecoverShardSnapshot replaces local shard id's data by the snapshot at
// req.Location: file:// inside the snapshots directory, http(s)://, or a
// path (a snapshot name of the shard, or an absolute path inside the
// snapshots directory).
func (n *Node) RecoverShardSnapshot(ctx context.Context, name string, id collection.ShardID, req RecoverRequest) error {
	c, err := n.shardRecoverable(name, id, req.Priority)
	if err != nil {
		return err
	}
	var path string
	cleanup := func() {}
	if u, perr := url.Parse(req.Location); perr == nil && u.Scheme == "" {
		// Qdrant's ShardSnapshotLocation may be a path: a snapshot of the
		// shard by name, or a file inside the snapshots directory.
		if filepath.IsAbs(req.Location) {
			path, err = n.localSnapshot(req.Location)
		} else {
			path, err = snapshotPath(n.shardSnapshotsDir(c.Name(), id), req.Location)
		}
	} else {
		path, cleanup, err = n.fetchSnapshot(ctx, req.Location, req.APIKey)
	}
	if err != nil {
		return err
	}
	defer cleanup()
	return n.recoverShard(ctx, c, id, path, req.Checksum, req.Priority)
}

// RecoverShardSnapshotFile replaces local shard id's data by the archive
// at path (a SaveUpload file).
func (n *Node) RecoverShardSnapshotFile(name string, id collection.ShardID, path, checksum, priority string) error {
	c, err := n.shardRecoverable(name, id, priority)
	if err != nil {
		return err
	}
	return n.recoverShard(context.Background(), c, id, path, checksum, priority)
}

// recoverShard restores local shard id from the archive at path; on a
// cluster peer the replica is then settled by priority, as Qdrant's
// recover_shard_snapshot_impl (snapshots_cluster.go: settleRestored; the
// replica is not deactivated first, as in Qdrant).
func (n *Node) recoverShard(ctx context.Context, c *collection.Collection, id collection.ShardID, path, checksum, priority string) error {
	cl := n.cl
	if cl == nil {
		return n.recoverShardFromFile(c, id, path, checksum)
	}
	ctx = context.WithoutCancel(ctx)
	self := cluster.PeerID(cl.opts.PeerID)
	coll, ok := cl.clusterCollection(c.Name())
	if !ok {
		return point.CollectionNotFound(c.Name())
	}
	before, ok := coll.Shards[cluster.ShardID(id)]
	if !ok {
		return point.Errorf(point.KindNotFound, "Shard %d of collection %s not found on this peer", id, c.Name())
	}
	if cl.transferInvolves(c.Name(), cluster.ShardID(id), self) {
		return point.Errorf(point.KindBadRequest, "Shard %d of collection %s is in a shard transfer with this peer: recover the snapshot once it ended", id, c.Name())
	}
	if err := n.recoverShardFromFile(c, id, path, checksum); err != nil {
		return err
	}
	return n.settleRestored(ctx, c.Name(), id, priority, before, before[self])
}

func (n *Node) shardRecoverable(name string, id collection.ShardID, priority string) (*collection.Collection, error) {
	if err := checkPriority(priority); err != nil {
		return nil, err
	}
	return n.localShardCollection(name, id)
}

func (n *Node) recoverShardFromFile(c *collection.Collection, id collection.ShardID, path, checksum string) error {
	if err := checkFileChecksum(path, checksum); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("recover shard snapshot: %w", err)
	}
	defer f.Close()
	start := time.Now()
	staging, err := vfs.MkdirTemp(vfs.Default, n.collectionsDir(), ".restoring-")
	if err != nil {
		return fmt.Errorf("recover shard snapshot: %w", err)
	}
	defer os.RemoveAll(staging)
	dir := filepath.Join(staging, "shard")
	m, err := shard.RestoreSnapshot(f, dir, snapshot.Options{})
	if errors.Is(err, snapshot.ErrInvalid) {
		return &point.Error{Kind: point.KindBadRequest, Description: fmt.Sprintf("Invalid snapshot: %v", err), Err: err}
	}
	if err != nil {
		return fmt.Errorf("recover shard snapshot: %w", err)
	}
	if err := c.RestoreShard(id, dir); err != nil {
		return err
	}
	n.log.Info("shard recovered from snapshot", "collection", c.Name(), "shard", id, "bytes", m.Size(), "seconds", time.Since(start).Seconds())
	return nil
}

// checkFileChecksum compares the file's SHA-256 with checksum, if given.
func checkFileChecksum(path, checksum string) error {
	if checksum == "" {
		return nil
	}
	got, err := snapshot.FileSHA256(path)
	if err != nil {
		return fmt.Errorf("recover snapshot: %w", err)
	}
	if !strings.EqualFold(got, strings.TrimSpace(checksum)) {
		return point.Errorf(point.KindBadRequest, "Checksum mismatch: expected %s, got %s", checksum, got)
	}
	return nil
}
