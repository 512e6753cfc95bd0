package collection

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
	"github.com/shoaldb/shoal/internal/snapshot"
	"github.com/shoaldb/shoal/internal/vfs"
)

// Shard snapshots (Qdrant's /collections/{c}/shards/{id}/snapshots): the
// image of one local shard (an archive of kind shard, shard.Snapshot),
// and RestoreShard, which replaces a local shard's data by one.

func (c *Collection) localShard(id ShardID) (*ReplicaSet, *shard.Shard, error) {
	rs := c.layout().set(id)
	if rs == nil {
		return nil, nil, point.Errorf(point.KindNotFound, "Shard %d of collection %s not found on this peer", id, c.name)
	}
	sh, _ := rs.Local()
	if sh == nil {
		return nil, nil, point.Errorf(point.KindNotFound, "Shard %d of collection %s not found on this peer", id, c.name)
	}
	return rs, sh, nil
}

// HasLocalShard reports whether shard id has a replica on this peer (else
// Qdrant's not found).
func (c *Collection) HasLocalShard(id ShardID) error {
	_, _, err := c.localShard(id)
	return err
}

// ShardSnapshot writes the image of local shard id to w (prefix "").
func (c *Collection) ShardSnapshot(ctx context.Context, id ShardID, w *snapshot.Writer) (shard.SnapshotMeta, error) {
	_, sh, err := c.localShard(id)
	if err != nil {
		return shard.SnapshotMeta{}, err
	}
	return sh.Snapshot(ctx, w, "")
}

// RestoreClockID is the clock a restored replica is marked with
// (RestoreShard): no replica set hands it out (their clock ids count up
// from 0).
const RestoreClockID = math.MaxUint32

// restoreTick is the tick of a restore's mark: the wall clock in
// nanoseconds, but past the marks the replaced replica and the image
// hold (a wall clock set back since an earlier restore here would
// otherwise give a mark no newer than that restore's, which replicas
// filled from it still hold: they would look level with this image).
func restoreTick(replaced, image uint64) uint64 {
	return max(uint64(max(time.Now().UnixNano(), 1)), replaced+1, image+1)
}

// ShardImageDir is where an extracted collection image (ExtractSnapshot
// into dir) holds the image of shard id, for RestoreShard.
func ShardImageDir(dir string, id ShardID) string { return shardDir(dir, id) }

// RestoreShard replaces the data of local shard id by the checked image
// in dir (shard.RestoreSnapshot), which it moves into place. The old
// shard is closed first (updates sent to it meanwhile fail with
// ErrClosed), moved aside and removed once the new one is open; if the
// new one fails to open, the old one comes back.
//
// The restored replica's history is no longer the one the other replicas
// share, though its clocks may say so (an image from another cluster, or
// without clocks at all, claims nothing they lack). So it is marked with
// a clock of its own: tick now (nanoseconds) of (this peer,
// RestoreClockID), raised in its clocks and cutoff (UpdateCutoff). A
// wal_delta from it then finds every other replica below its cutoff, and
// a wal_delta to it finds a tick the source lacks: both fall back to
// stream_records, until a transfer that copies everything has run.
func (c *Collection) RestoreShard(id ShardID, dir string) error {
	return c.restoreShard(id, dir, true)
}

// restoreShard is RestoreShard; without mark the restore clock is left
// out (a snapshot transfer: the image is a replica of this cluster's
// history, from the transfer's source).
func (c *Collection) restoreShard(id ShardID, dir string, mark bool) error {
	c.topoMu.Lock()
	defer c.topoMu.Unlock()
	rs, old, err := c.localShard(id)
	if err != nil {
		return err
	}
	cfg, err := c.Config()
	if err != nil {
		return err
	}
	fsys := vfs.OrDefault(c.fsys)
	final := shardDir(c.dir, id)
	aside := final + ".replaced"
	if err := fsys.RemoveAll(aside); err != nil {
		return fmt.Errorf("restore shard %d: %w", id, err)
	}
	_, state := rs.Local()
	restoreKey := ops.ClockKey{PeerID: c.layout().self, ClockID: RestoreClockID}
	before := old.RecoveryPoint().Held(old.Cutoff())[restoreKey]
	if err := old.Close(); err != nil {
		c.log.Warn("closing the shard a snapshot replaces", "shard", id, "err", err)
	}
	reopen := func() {
		sh, err := c.openShardDir(cfg, id)
		if err != nil {
			c.log.Error("reopening a shard after a failed restore", "shard", id, "err", err)
			return
		}
		sh.Start()
		rs.setLocal(sh, state)
	}
	if err := fsys.Rename(final, aside); err != nil {
		reopen()
		return fmt.Errorf("restore shard %d: %w", id, err)
	}
	if err := fsys.Rename(dir, final); err != nil {
		err = errors.Join(err, fsys.Rename(aside, final))
		reopen()
		return fmt.Errorf("restore shard %d: %w", id, err)
	}
	sh, err := c.openShardDir(cfg, id)
	if err != nil {
		fsys.RemoveAll(final)
		err = errors.Join(err, fsys.Rename(aside, final))
		reopen()
		return fmt.Errorf("restore shard %d: open the restored shard: %w", id, err)
	}
	sh.Start()
	var clock ops.RecoveryPoint
	if mark {
		clock = ops.RecoveryPoint{restoreKey: restoreTick(before, sh.RecoveryPoint().Held(sh.Cutoff())[restoreKey])}
	}
	if err := sh.UpdateCutoff(context.Background(), clock); err != nil {
		sh.Close()
		fsys.RemoveAll(final)
		err = errors.Join(err, fsys.Rename(aside, final))
		reopen()
		return fmt.Errorf("restore shard %d: mark the restored shard: %w", id, err)
	}
	// The image may come from a replica that lacks an index of the
	// collection's schema (payload_schema.go).
	if _, err := ensureIndexes(sh, c.payloadSchema()); err != nil {
		c.log.Error("indexing a restored shard with the collection's schema", "shard", id, "err", err)
	}
	rs.setLocal(sh, state)
	if err := fsys.RemoveAll(aside); err != nil {
		c.log.Warn("removing the replaced shard", "shard", id, "err", err)
	}
	c.log.Info("shard restored from snapshot", "shard", id, "dir", filepath.Base(final))
	return nil
}

// settleReplaced repairs a RestoreShard cut short by a crash before the
// shard at final is opened: the replaced data moved aside comes back if
// the restored data never took its place, and is dropped otherwise.
func settleReplaced(fsys vfs.FS, final string) error {
	aside := final + ".replaced"
	if _, err := fsys.Stat(aside); err != nil {
		return nil
	}
	if _, err := fsys.Stat(final); err == nil {
		return fsys.RemoveAll(aside)
	}
	return fsys.Rename(aside, final)
}
