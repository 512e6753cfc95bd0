package collection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
	"github.com/shoaldb/shoal/internal/snapshot"
	"github.com/shoaldb/shoal/internal/vfs"
)

// The snapshot transfer method (Qdrant's shards/transfer/snapshot.rs). On
// the source: the proxy queues (updates are applied here and kept in the
// WAL), a consistent image of the local replica is taken (shard.Snapshot:
// it covers the operations [0, Applied) of the WAL), written to a
// temporary archive and streamed to the target (SnapshotRemote); then the
// operations from Applied on are sent as wal_delta sends them
// (sendWALFrom), and the proxy forwards. On the target
// (ReplicaReceiveSnapshot): the stream goes to a temporary file under the
// collection's directory, bounded; the archive is extracted and checked
// (shard.RestoreSnapshot) and replaces the replica's data at once
// (restoreShard, without the restore clock: the image shares this
// cluster's history), with the clocks and cutoff of the image. A stream that
// is garbage, truncated or too large is refused and leaves the replica as
// it was. The temporary files are removed on every path (and at the next
// start after a crash).

// SnapshotRemote is the target of a snapshot transfer: a TransferRemote
// that takes a shard archive as a stream.
type SnapshotRemote interface {
	TransferRemote
	// SendShardSnapshot streams the shard archive of size bytes read from
	// r to the peer, which replaces its replica of shard by it, and
	// returns once it has. from is this peer (the transfer's source); sent
	// is called with the bytes sent so far.
	SendShardSnapshot(ctx context.Context, collection string, shard ShardID, from uint64, size int64, r io.Reader, sent func(int64)) error
}

// maxTransferSnapshot bounds the archive a target takes from a snapshot
// transfer (the archive reader's default bound of its files).
const maxTransferSnapshot int64 = 1 << 40

// transferTempPrefix names the temporary directory of a snapshot transfer
// of shard id, in the collection's directory, on either side.
func transferTempPrefix(id ShardID) string {
	return ".snapshot-transfer-" + strconv.FormatUint(uint64(id), 10) + "-"
}

// removeTransferLeftovers removes the temporary directories of snapshot
// transfers of shard id that a crash left behind.
func (c *Collection) removeTransferLeftovers(id ShardID) error {
	fsys := vfs.OrDefault(c.fsys)
	names, err := fsys.ReadDir(c.dir)
	if err != nil {
		return nil // no directory yet: nothing left over
	}
	prefix := transferTempPrefix(id)
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			if err := fsys.RemoveAll(filepath.Join(c.dir, n)); err != nil {
				return fmt.Errorf("remove the leftover of a snapshot transfer: %w", err)
			}
		}
	}
	return nil
}

// transferSnapshot is the snapshot method on the source.
func (c *Collection) transferSnapshot(ctx context.Context, rs *ReplicaSet, local *shard.Shard, to SnapshotRemote, report func(TransferProgress)) (err error) {
	self := c.layout().self
	if _, err := to.InitiateTransfer(ctx, c.name, rs.id, self, false); err != nil {
		return fmt.Errorf("%w: peer %d: %w", ErrTargetNotReady, to.Peer(), err)
	}
	p := &shardProxy{coll: c.name, shard: rs.id, from: self, to: to}
	if err := rs.xfer.install(p); err != nil {
		return err
	}
	removeProxy := true
	defer func() {
		if err != nil && removeProxy {
			rs.xfer.remove(p)
		}
	}()
	fsys := vfs.OrDefault(c.fsys)
	tmp, err := vfs.MkdirTemp(fsys, c.dir, transferTempPrefix(rs.id))
	if err != nil {
		return fmt.Errorf("snapshot transfer of shard %d: %w", rs.id, err)
	}
	defer func() {
		if rerr := fsys.RemoveAll(tmp); rerr != nil {
			c.log.Warn("removing the archive of a snapshot transfer", "shard", rs.id, "err", rerr)
		}
	}()
	f, err := vfs.Create(fsys, filepath.Join(tmp, "archive"))
	if err != nil {
		return fmt.Errorf("snapshot transfer of shard %d: %w", rs.id, err)
	}
	defer f.Close()
	// Every update logged from here on is after the image: the proxy
	// queues it, and it is sent from the WAL below.
	began := time.Now()
	meta, err := writeShardArchive(ctx, local, f)
	if err != nil {
		return fmt.Errorf("snapshot transfer of shard %d: take the snapshot: %w", rs.id, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("snapshot transfer of shard %d: %w", rs.id, err)
	}
	size := fi.Size()
	c.log.Info("shard snapshot taken for a transfer", "collection", c.name, "shard", rs.id, "peer", to.Peer(),
		"bytes", size, "points", meta.Points, "operations", meta.Applied, "took", time.Since(began).Round(time.Millisecond))
	prog := TransferProgress{Method: TransferSnapshot, Unit: "bytes", Total: size}
	report(prog)
	err = to.SendShardSnapshot(ctx, c.name, rs.id, self, size, io.NewSectionReader(f, 0, size), func(n int64) {
		prog.Sent, prog.Bytes = n, n
		report(prog)
	})
	if err != nil {
		return fmt.Errorf("send the snapshot of shard %d to peer %d: %w", rs.id, to.Peer(), err)
	}
	c.log.Info("shard snapshot recovered on the target; sending the updates queued meanwhile", "collection", c.name, "shard", rs.id, "peer", to.Peer(),
		"from_operation", meta.Applied)
	removeProxy = false // sendWALFrom removes it when it fails
	return c.sendWALFrom(ctx, rs, local, p, meta.Applied, func(w TransferProgress) {
		report(TransferProgress{Method: TransferSnapshot, Unit: "WAL operations", Sent: w.Sent, Total: w.Total, Bytes: size + w.Bytes})
	})
}

// writeShardArchive writes a shard archive of local to w.
func writeShardArchive(ctx context.Context, local *shard.Shard, w io.Writer) (shard.SnapshotMeta, error) {
	sw := snapshot.NewWriter(w, snapshot.KindShard, nil)
	meta, err := local.Snapshot(ctx, sw, "")
	if err != nil {
		return meta, err
	}
	_, err = sw.Close(meta)
	return meta, err
}

// receivingReplica returns the local replica of shard id if it is
// receiving a transfer (Partial, Recovery or PartialSnapshot).
func (c *Collection) receivingReplica(id ShardID) (*shard.Shard, error) {
	rs := c.layout().set(id)
	if rs == nil {
		return nil, point.Errorf(point.KindNotFound, "Shard %d of collection %s not found on this peer", id, c.name)
	}
	local, st := rs.Local()
	switch {
	case local == nil:
		return nil, point.Errorf(point.KindBadRequest, "Shard %d of collection %s has no replica on this peer to receive a transfer", id, c.name)
	case st != ReplicaPartial && st != ReplicaRecovery && st != ReplicaPartialSnapshot:
		return nil, point.Errorf(point.KindBadRequest, "The replica of shard %d of collection %s on this peer is %s, not receiving a transfer", id, c.name, st)
	}
	return local, nil
}

// ReplicaReceiveSnapshot replaces this peer's replica of shard id, which
// must be receiving a transfer, by the shard archive read from r (size
// bytes, as the source announced; negative: unknown). The archive is
// bounded, written to a temporary file, checked and extracted, then
// swapped in (restoreShard); the replica is marked incomplete until it is
// Active, and its cutoff is raised to the image's clocks: its WAL holds
// nothing before them. A stream that is too large, truncated or not a
// valid shard archive is refused (bad request) and leaves the replica as
// it was.
func (c *Collection) ReplicaReceiveSnapshot(ctx context.Context, id ShardID, size int64, r io.Reader) error {
	if _, err := c.receivingReplica(id); err != nil {
		return err
	}
	limit := maxTransferSnapshot
	if c.snapshotCap > 0 {
		limit = c.snapshotCap
	}
	if size > limit {
		return point.Errorf(point.KindBadRequest, "Shard snapshot of %d bytes is over the limit of %d bytes", size, limit)
	}
	fsys := vfs.OrDefault(c.fsys)
	if free, ok := fsys.FreeSpace(c.dir); ok && size > 0 && uint64(size) > free/2 {
		// The archive and its extracted files sit side by side.
		return point.Errorf(point.KindBadRequest, "Not enough disk space to receive a shard snapshot of %d bytes (%d free)", size, free)
	}
	began := time.Now()
	tmp, err := vfs.MkdirTemp(fsys, c.dir, transferTempPrefix(id))
	if err != nil {
		return fmt.Errorf("receive the snapshot of shard %d: %w", id, err)
	}
	defer func() {
		if rerr := fsys.RemoveAll(tmp); rerr != nil {
			c.log.Warn("removing a received shard snapshot", "shard", id, "err", rerr)
		}
	}()
	f, err := vfs.Create(fsys, filepath.Join(tmp, "archive"))
	if err != nil {
		return fmt.Errorf("receive the snapshot of shard %d: %w", id, err)
	}
	defer f.Close()
	n, err := io.Copy(f, io.LimitReader(r, limit+1))
	if err != nil {
		return fmt.Errorf("receive the snapshot of shard %d: %w", id, err)
	}
	if n > limit {
		return point.Errorf(point.KindBadRequest, "Shard snapshot is over the limit of %d bytes", limit)
	}
	if size >= 0 && n != size {
		return invalidSnapshot(fmt.Errorf("received %d bytes of %d: %w", n, size, snapshot.ErrTruncated))
	}
	dir := filepath.Join(tmp, "shard")
	if _, err := shard.RestoreSnapshot(io.NewSectionReader(f, 0, n), dir, snapshot.Options{}); err != nil {
		if errors.Is(err, snapshot.ErrInvalid) {
			return invalidSnapshot(err)
		}
		return fmt.Errorf("receive the snapshot of shard %d: %w", id, err)
	}
	// The stream may have taken long: the transfer may be gone.
	if _, err := c.receivingReplica(id); err != nil {
		return err
	}
	_, statErr := fsys.Stat(shardDir(c.dir, id) + incompleteSuffix)
	wasIncomplete := statErr == nil
	if err := c.markIncomplete(id); err != nil {
		return err
	}
	if err := c.restoreShard(id, dir, false); err != nil {
		if !wasIncomplete {
			err = errors.Join(err, c.clearIncomplete(id))
		}
		return err
	}
	_, sh, err := c.localShard(id)
	if err != nil {
		return err
	}
	if err := sh.RaiseCutoff(ctx, sh.RecoveryPoint()); err != nil {
		return fmt.Errorf("receive the snapshot of shard %d: raise the cutoff: %w", id, err)
	}
	c.log.Info("shard replaced by a snapshot received from a transfer", "collection", c.name, "shard", id,
		"bytes", n, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// invalidSnapshot is the refusal of a received archive.
func invalidSnapshot(err error) error {
	return &point.Error{Kind: point.KindBadRequest, Description: fmt.Sprintf("Invalid snapshot: %v", err), Err: err}
}
