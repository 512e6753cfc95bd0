package collection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"time"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
	"github.com/shoaldb/shoal/internal/vfs"
)

// Shard transfers, the data side (Qdrant's shards/transfer): the source
// peer's driver (internal/node) calls TransferShard once consensus has
// started a transfer; the target's replica is prepared over P2P
// (ReplicaInitiateTransfer) and then receives forced updates: batches of
// records (stream_records), or the WAL operations it misses
// (wal_delta), and meanwhile every new update through the proxy
// (transfer_proxy.go). When TransferShard returns, the target holds every
// update applied here and the proxy keeps forwarding until EndTransfer:
// the node proposes the end of the transfer to consensus in between.

// TransferMethod is a transfer method, Qdrant's snake_case names.
type TransferMethod string

// The transfer methods.
const (
	TransferStreamRecords TransferMethod = "stream_records"
	TransferSnapshot      TransferMethod = "snapshot"
	TransferWALDelta      TransferMethod = "wal_delta"
)

// TransferRemote is the target peer of a transfer: a Remote that prepares
// its replica to receive (reset: emptied first) and tells its recovery
// point, and takes the transfer's batches of forced updates. Both name
// the source (from): the target refuses a transfer its cluster state does
// not record, so a source that has not learnt yet that its transfer
// ended (a peer restarted with a stale state) cannot reset or write a
// replica that another transfer fills.
type TransferRemote interface {
	Remote
	InitiateTransfer(ctx context.Context, collection string, shard ShardID, from uint64, reset bool) (TargetState, error)
	TransferUpdates(ctx context.Context, collection string, shard ShardID, from uint64, b TransferBatch) (uint64, error)
}

// TaggedUpdate is one update of a transfer batch, with the clock tag it
// was logged with (a zero tick for records). Encoded, when set, is Op's
// encoding (the sender measured the batch with it): the transport sends
// it as is instead of encoding Op again.
type TaggedUpdate struct {
	Op      *ops.Operation
	Tag     ops.ClockTag
	Encoded []byte
}

// encodedUpdate is op with its tag and encoding.
func encodedUpdate(op *ops.Operation, tag ops.ClockTag) (TaggedUpdate, error) {
	b, err := op.Encode()
	if err != nil {
		return TaggedUpdate{}, fmt.Errorf("encode a transfer update: %w", err)
	}
	return TaggedUpdate{Op: op, Tag: tag, Encoded: b}, nil
}

// TransferBatch is what one TransferUpdates call carries: updates applied
// in order, forced; with Wait the answer comes once the last is applied;
// a Cutoff is raised after them (the end of stream_records: the target
// then holds every operation up to it, and a wal_delta from it cannot
// serve a replica below it).
type TransferBatch struct {
	Updates []TaggedUpdate
	Wait    bool
	Cutoff  ops.RecoveryPoint
}

// Bounds of one TransferUpdates call, checked by the receiver too.
const (
	MaxTransferBatch      = 1024
	maxTransferBatchBytes = 8 << 20
)

// TargetState is what the target of a transfer says of its replica.
type TargetState struct {
	RecoveryPoint ops.RecoveryPoint
	// Incomplete: the replica was emptied for a transfer that did not
	// finish; its recovery point (advanced by the updates it took
	// meanwhile) does not say what it holds, so no wal_delta from it.
	Incomplete bool
}

// TransferProgress is how far a transfer is: records (stream_records) or
// WAL operations (wal_delta) sent, of how many (at the start), and the
// bytes of their encoding; for snapshot, the bytes of the archive, then
// the WAL operations queued meanwhile (Unit says which).
type TransferProgress struct {
	Method TransferMethod
	// Unit is what Sent and Total count when the method does not say it
	// ("" for stream_records and wal_delta).
	Unit  string
	Sent  int64
	Total int64
	Bytes int64
}

// ErrWALDeltaUnavailable marks a wal_delta transfer the source's WAL
// cannot serve (it no longer holds the operations the target misses, or
// the target holds updates the source lacks): the transfer falls back to
// stream_records.
var ErrWALDeltaUnavailable = errors.New("the WAL does not cover the target's recovery point")

// ErrTargetNotReady marks a transfer whose target peer refused to prepare
// its replica: it has not applied the start of the transfer yet (or the
// transfer is gone). The driver tries again for a while.
var ErrTargetNotReady = errors.New("the target replica is not ready to receive the transfer")

// catchUpRounds bounds the passes over the WAL of a wal_delta transfer
// before its switch-over.
const catchUpRounds = 8

// transferBatch is how many records one batch of stream_records carries
// (Qdrant's TRANSFER_BATCH_SIZE).
const transferBatch = 100

// walBatch is how many WAL operations one batch of wal_delta carries.
const walBatch = 256

// TransferShard sends the local replica of shard id to the target, by
// method (snapshot falls back to stream_records when the target cannot
// take a snapshot stream; wal_delta to stream_records when the WAL cannot
// serve it), and
// returns the method used. report is called after every batch. The
// proxy stays installed after a successful return; EndTransfer removes it.
func (c *Collection) TransferShard(ctx context.Context, id ShardID, to TransferRemote, method TransferMethod, report func(TransferProgress)) (TransferMethod, error) {
	rs := c.layout().set(id)
	if rs == nil {
		return method, point.Errorf(point.KindNotFound, "Shard %d of collection %s not found on this peer", id, c.name)
	}
	local, _ := rs.Local()
	if local == nil {
		return method, point.Errorf(point.KindBadRequest, "Shard %d of collection %s has no local replica to transfer", id, c.name)
	}
	if report == nil {
		report = func(TransferProgress) {}
	}
	if method == TransferWALDelta {
		err := c.transferWALDelta(ctx, rs, local, to, report)
		if !errors.Is(err, ErrWALDeltaUnavailable) {
			return method, err
		}
		c.log.Warn("wal_delta transfer falls back to stream_records", "collection", c.name, "shard", id, "peer", to.Peer(), "reason", err)
	} else if method == TransferSnapshot {
		if sr, ok := to.(SnapshotRemote); ok {
			return method, c.transferSnapshot(ctx, rs, local, sr, report)
		}
		c.log.Warn("snapshot transfer runs as stream_records: the target cannot take a snapshot stream", "collection", c.name, "shard", id, "peer", to.Peer())
	}
	return TransferStreamRecords, c.transferRecords(ctx, rs, local, to, report)
}

// EndTransfer unwraps the local replica of shard id from the proxy of the
// transfer that ran from it (nothing when none) and returns the first
// update the proxy failed to forward: the target then misses it.
func (c *Collection) EndTransfer(id ShardID) error {
	rs := c.layout().set(id)
	if rs == nil {
		return nil
	}
	rs.xfer.mu.Lock()
	p := rs.xfer.p
	rs.xfer.p = nil
	rs.xfer.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.failure()
}

// TransferErr returns the first update the proxy of the transfer running
// from shard id failed to forward (nil: none, or no transfer).
func (c *Collection) TransferErr(id ShardID) error {
	rs := c.layout().set(id)
	if rs == nil {
		return nil
	}
	if p := rs.xfer.current(); p != nil {
		return p.failure()
	}
	return nil
}

// transferRecords is stream_records: the target is emptied, the proxy
// forwards, and the records go in batches under the proxy's lock. Then,
// as Qdrant's transfer_stream_records, the target's cutoff is raised to
// this replica's recovery point from before the first batch (with the
// last batch): the target holds every operation it covers, though it saw
// none of their tags, so that a later wal_delta from it serves no replica
// that misses them (one emptied, or left with another history by a
// snapshot restore). Unlike Qdrant, the target's clocks are not raised
// with it (shard.RaiseCutoff): the updates it accepts stay as they were.
func (c *Collection) transferRecords(ctx context.Context, rs *ReplicaSet, local *shard.Shard, to TransferRemote, report func(TransferProgress)) error {
	self := c.layout().self
	if _, err := to.InitiateTransfer(ctx, c.name, rs.id, self, true); err != nil {
		return fmt.Errorf("%w: peer %d: %w", ErrTargetNotReady, to.Peer(), err)
	}
	p := &shardProxy{coll: c.name, shard: rs.id, from: self, to: to, forward: true}
	if err := rs.xfer.install(p); err != nil {
		return err
	}
	// Every update logged before the proxy was installed is applied
	// before the first batch is read (an update answered before it was
	// applied, wait=false, would otherwise be in neither a batch nor the
	// forwards); every later one is forwarded. So the target holds every
	// operation of the clocks read now (recovery point and cutoff) once
	// the batches are in: they become the target's cutoff (Qdrant's
	// stream_records ends so, with the recovery point only).
	if err := awaitApplied(ctx, local); err != nil {
		return fmt.Errorf("send records of shard %d to peer %d: %w", rs.id, to.Peer(), err)
	}
	cutoff := local.RecoveryPoint().Held(local.Cutoff())
	prog := TransferProgress{Method: TransferStreamRecords, Total: int64(shardLen(local))}
	var from *point.ID
	all := func(string) bool { return true }
	for {
		var recs []segmentRecord
		var next *point.ID
		var err error
		p.mu.Lock()
		// The forwards go out when an update is logged, the batches read
		// what is applied: an update logged (wait=false) but not applied
		// yet was forwarded already, and a batch read now would carry the
		// point's older value after it, undoing it on the target. Under
		// the proxy's lock nothing new is logged, so this ends.
		err = awaitApplied(ctx, local)
		if err == nil {
			local.View(func(r *shard.Reader) {
				var got []segmentRecord
				got, next, err = scrollRecords(ctx, r, from, all)
				recs = got
			})
		}
		if err == nil && (len(recs) > 0 || next == nil) {
			b := TransferBatch{Wait: next == nil}
			if len(recs) > 0 {
				op := &ops.Operation{Kind: ops.Upsert, Points: make([]ops.PointStruct, len(recs))}
				for i, r := range recs {
					op.Points[i] = ops.PointStruct{ID: r.ID, Vectors: r.Vectors, Sparse: r.Sparse, Payload: r.Payload}
				}
				var u TaggedUpdate
				if u, err = encodedUpdate(op, ops.ClockTag{PeerID: self}); err == nil {
					b.Updates = []TaggedUpdate{u}
					prog.Bytes += int64(len(u.Encoded))
				}
			}
			if next == nil {
				b.Cutoff = cutoff
			}
			if err == nil {
				err = p.sendBatch(ctx, b)
			}
		}
		if err == nil {
			err = p.err
		}
		p.mu.Unlock()
		if err != nil {
			return fmt.Errorf("send records of shard %d to peer %d: %w", rs.id, to.Peer(), err)
		}
		prog.Sent += int64(len(recs))
		report(prog)
		if next == nil {
			break
		}
		from = next
	}
	return nil
}

// segmentRecord is one record read for a batch.
type segmentRecord struct {
	ID      point.ID
	Vectors point.Vectors
	Sparse  point.SparseVectors
	Payload point.Payload
}

func scrollRecords(ctx context.Context, r *shard.Reader, from *point.ID, all func(string) bool) ([]segmentRecord, *point.ID, error) {
	got, next, err := r.Scroll(ctx, nil, from, transferBatch, all)
	if err != nil {
		return nil, nil, err
	}
	// One record per point, its newest copy: a point met in two segments
	// (while the optimizer moves it) must not go out twice, the older
	// copy last.
	out := make([]segmentRecord, 0, len(got))
	version := map[point.ID]uint64{}
	at := map[point.ID]int{}
	for _, g := range got {
		r := segmentRecord{ID: g.ID, Vectors: g.Vectors, Sparse: g.Sparse, Payload: g.Payload}
		if i, dup := at[g.ID]; dup {
			if g.Version > version[g.ID] {
				out[i], version[g.ID] = r, g.Version
			}
			continue
		}
		at[g.ID], version[g.ID] = len(out), g.Version
		out = append(out, r)
	}
	return out, next, nil
}

// ReplicaClocks returns the recovery point and cutoff of this peer's
// replica of shard, whatever its state.
func (c *Collection) ReplicaClocks(shard ShardID) (rp, cutoff ops.RecoveryPoint, err error) {
	rs := c.layout().set(shard)
	if rs == nil {
		return nil, nil, point.Errorf(point.KindNotFound, "Shard %d of collection %s not found on this peer", shard, c.name)
	}
	local, _ := rs.Local()
	if local == nil {
		return nil, nil, point.Errorf(point.KindNotFound, "Shard %d of collection %s has no replica on this peer", shard, c.name)
	}
	return local.RecoveryPoint(), local.Cutoff(), nil
}

// ReplicaInitiateTransfer prepares this peer's replica of shard to receive
// a transfer: it must be Partial, Recovery or PartialSnapshot (consensus
// started the transfer and this peer applied it); with reset every point
// is deleted first (stream_records sends them all), and the replica is
// marked incomplete until it is Active (a marker file beside its
// directory, kept across restarts). It returns the replica's recovery
// point, for wal_delta.
func (c *Collection) ReplicaInitiateTransfer(ctx context.Context, id ShardID, reset bool) (TargetState, error) {
	local, err := c.receivingReplica(id)
	if err != nil {
		return TargetState{}, err
	}
	fsys := vfs.OrDefault(c.fsys)
	marker := shardDir(c.dir, id) + incompleteSuffix
	if reset {
		if err := c.markIncomplete(id); err != nil {
			return TargetState{}, err
		}
		if _, err := local.Update(ctx, &ops.Operation{Kind: ops.Delete, Filter: &filter.Filter{}}, true); err != nil {
			return TargetState{}, fmt.Errorf("empty the replica of shard %d: %w", id, err)
		}
		if err := local.ResetClocks(ctx); err != nil {
			return TargetState{}, fmt.Errorf("reset the clocks of the emptied replica of shard %d: %w", id, err)
		}
	}
	_, err = fsys.Stat(marker)
	return TargetState{RecoveryPoint: local.RecoveryPoint(), Incomplete: err == nil}, nil
}

// ReplicaTransferUpdates applies a batch of a transfer to this peer's
// replica of shard id, which must be receiving one (Partial, Recovery or
// PartialSnapshot): every update forced, in order, then the cutoff. It
// returns the operation id of the last update.
func (c *Collection) ReplicaTransferUpdates(ctx context.Context, id ShardID, b TransferBatch) (uint64, error) {
	if len(b.Updates) > MaxTransferBatch {
		return 0, point.Errorf(point.KindBadInput, "a transfer batch of %d updates is over the limit of %d", len(b.Updates), MaxTransferBatch)
	}
	rs := c.layout().set(id)
	if rs == nil {
		return 0, point.Errorf(point.KindNotFound, "Shard %d of collection %s not found on this peer", id, c.name)
	}
	local, st := rs.Local()
	switch {
	case local == nil:
		return 0, point.Errorf(point.KindBadRequest, "Shard %d of collection %s has no replica on this peer to receive a transfer", id, c.name)
	case st != ReplicaPartial && st != ReplicaRecovery && st != ReplicaPartialSnapshot:
		return 0, point.Errorf(point.KindUnavailable, "The replica of shard %d of collection %s on this peer is %s, not receiving a transfer: the update was not applied", id, c.name, st)
	}
	var last uint64
	for i, u := range b.Updates {
		if u.Op == nil {
			return last, point.Errorf(point.KindBadInput, "transfer batch update %d has no operation", i)
		}
		tag := u.Tag
		tag.Force = true
		wait := b.Wait && i == len(b.Updates)-1
		// Straight to the replica, not through a proxy a transfer from it
		// left (a driver still forwarding in its switch-over, or one being
		// removed): a replica receiving a transfer is no transfer's
		// source, and forwarding on would send the update back to a
		// source that forwards it here, under the locks of both proxies:
		// the two peers then wait for each other until forwardTimeout
		// (seen in the fault suite: a recovery A->B finishing while B->A
		// starts, 30 s during which both are stuck).
		res, err := local.UpdateWithClock(ctx, u.Op, wait, tag)
		if err != nil && !errors.Is(err, shard.ErrDeferredTimeout) {
			return last, fmt.Errorf("apply transfer update %d of %d to shard %d: %w", i+1, len(b.Updates), id, err)
		}
		last = res.OperationID
	}
	if b.Wait {
		// Every update of the transfer is applied when it answers, those
		// of earlier batches sent without wait too (the sender's last
		// batch may be empty).
		if err := awaitApplied(ctx, local); err != nil {
			return last, fmt.Errorf("wait for the transfer's updates to shard %d: %w", id, err)
		}
	}
	if len(b.Cutoff) > 0 {
		if err := local.RaiseCutoff(ctx, b.Cutoff); err != nil {
			return last, fmt.Errorf("raise the cutoff of shard %d: %w", id, err)
		}
	}
	return last, nil
}

// awaitApplied waits until the shard has applied every operation logged
// when it is called (a transfer reads the segments after it).
func awaitApplied(ctx context.Context, local *shard.Shard) error {
	_, next := local.WALRange()
	for local.Applied() < next {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}

// incompleteSuffix names the marker of a replica emptied for a transfer
// that has not finished: shards/<id>.incomplete.
const incompleteSuffix = ".incomplete"

// markIncomplete writes the marker of shard id.
func (c *Collection) markIncomplete(id ShardID) error {
	err := vfs.WriteFileAtomic(vfs.OrDefault(c.fsys), shardDir(c.dir, id)+incompleteSuffix, func(io.Writer) error { return nil })
	if err != nil {
		return fmt.Errorf("collection %s: mark the replica of shard %d incomplete: %w", c.name, id, err)
	}
	return nil
}

// MarkUntrusted marks this peer's replica of shard id as holding data its
// clocks do not describe (the replica check found its points differ from
// replicas with the same clocks): until it is Active again, a transfer to
// it sends every record (stream_records), as to one emptied by a transfer
// that did not finish, since a WAL delta by clocks would send nothing.
func (c *Collection) MarkUntrusted(id ShardID) error { return c.markIncomplete(id) }

// clearIncomplete removes the marker of shard id once its local replica
// is Active (or gone).
func (c *Collection) clearIncomplete(id ShardID) error {
	err := vfs.OrDefault(c.fsys).Remove(shardDir(c.dir, id) + incompleteSuffix)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("collection %s: clear the incomplete mark of shard %d: %w", c.name, id, err)
	}
	return nil
}

// transferWALDelta is wal_delta: the operations the target's recovery
// point misses are read from the WAL and sent in order, the proxy queues
// (the WAL keeps) the new ones meanwhile, and once caught up the proxy
// forwards.
func (c *Collection) transferWALDelta(ctx context.Context, rs *ReplicaSet, local *shard.Shard, to TransferRemote, report func(TransferProgress)) error {
	self := c.layout().self
	ts, err := to.InitiateTransfer(ctx, c.name, rs.id, self, false)
	if err != nil {
		return fmt.Errorf("%w: peer %d: %w", ErrTargetNotReady, to.Peer(), err)
	}
	if ts.Incomplete {
		return fmt.Errorf("%w: the target's replica was emptied by a transfer that did not finish", ErrWALDeltaUnavailable)
	}
	rp := ts.RecoveryPoint
	p := &shardProxy{coll: c.name, shard: rs.id, from: self, to: to}
	if err := rs.xfer.install(p); err != nil {
		return err
	}
	// The start is resolved after the proxy queues: every update logged
	// from here on is read from the WAL.
	start, err := walDeltaStart(local, rp)
	if err != nil {
		rs.xfer.remove(p)
		return err
	}
	return c.sendWALFrom(ctx, rs, local, p, start, report)
}

// sendWALFrom sends the operations the WAL holds from start on to the
// target of p, which queues meanwhile, in order with their clock tags,
// forced, and switches p to forward mode under its lock once caught up
// (wal_delta, and the end of a snapshot transfer). On failure p is
// removed. Progress counts WAL operations (Method wal_delta).
func (c *Collection) sendWALFrom(ctx context.Context, rs *ReplicaSet, local *shard.Shard, p *shardProxy, start uint64, report func(TransferProgress)) error {
	to, self := p.to, p.from
	_, end := local.WALRange()
	prog := TransferProgress{Method: TransferWALDelta, Total: int64(end - start)}
	next := start
	send := func(last bool) error {
		first, _ := local.WALRange()
		if next < first {
			return fmt.Errorf("%w: operations from %d were truncated from the WAL during the transfer", ErrWALDeltaUnavailable, next)
		}
		_, stop := local.WALRange()
		var b TransferBatch
		size := 0
		flush := func(final bool) error {
			if len(b.Updates) == 0 && !(final && last) {
				return nil
			}
			b.Wait = final && last
			if err := p.sendBatch(ctx, b); err != nil {
				return err
			}
			prog.Sent += int64(len(b.Updates))
			// The total grows with the updates queued meanwhile.
			_, now := local.WALRange()
			prog.Total = max(int64(now-start), prog.Sent)
			report(prog)
			b, size = TransferBatch{}, 0
			return nil
		}
		err := local.ReadWAL(next, func(u shard.LoggedUpdate) error {
			if u.OperationID >= stop {
				return nil
			}
			tag := ops.ClockTag{PeerID: self}
			if u.Tag != nil {
				tag = *u.Tag
			}
			tu, err := encodedUpdate(u.Op, tag)
			if err != nil {
				return err
			}
			n := len(tu.Encoded)
			if len(b.Updates) > 0 && (len(b.Updates) >= walBatch || size+n > maxTransferBatchBytes/2) {
				if err := flush(false); err != nil {
					return err
				}
			}
			b.Updates = append(b.Updates, tu)
			size += n
			prog.Bytes += int64(n)
			next = u.OperationID + 1
			return nil
		})
		if err != nil {
			return err
		}
		return flush(true)
	}
	// Catch up without the lock while the queue shrinks; the rest goes
	// under the lock (updates wait meanwhile). Writes faster than the
	// sender would keep it behind for ever: after catchUpRounds the
	// switch-over is forced.
	for round := 0; round < catchUpRounds; round++ {
		_, end := local.WALRange()
		if end-next <= transferBatch {
			break
		}
		if err := send(false); err != nil {
			rs.xfer.remove(p)
			return fmt.Errorf("send the WAL of shard %d to peer %d: %w", rs.id, to.Peer(), err)
		}
	}
	p.mu.Lock()
	err := send(true)
	p.forward = err == nil
	p.mu.Unlock()
	if err != nil {
		rs.xfer.remove(p)
		return fmt.Errorf("send the WAL of shard %d to peer %d: %w", rs.id, to.Peer(), err)
	}
	prog.Total = max(prog.Total, prog.Sent)
	report(prog)
	return nil
}

// walDeltaStart resolves the first WAL operation a replica at recovery
// point rp misses (Qdrant's resolve_wal_delta): ErrWALDeltaUnavailable
// when rp holds a tick the source lacks, or when the WAL (or the cutoff)
// no longer reaches back to the target's newest tick of a clock it is
// behind on. A target that misses nothing starts at the WAL's end.
func walDeltaStart(local *shard.Shard, rp ops.RecoveryPoint) (uint64, error) {
	src, cut := local.RecoveryPoint(), local.Cutoff()
	for k, t := range rp {
		if t > src[k] {
			return 0, fmt.Errorf("%w: the target has tick %d of clock %d/%d, the source only %d", ErrWALDeltaUnavailable, t, k.PeerID, k.ClockID, src[k])
		}
	}
	behind := map[ops.ClockKey]uint64{}
	for k, t := range src {
		if rp[k] < t {
			behind[k] = rp[k]
		}
	}
	// Every clock of the cutoff, including those the source's clocks lack
	// (a cutoff raised alone after a stream_records transfer).
	for k, c := range cut {
		if rp[k] < c {
			return 0, fmt.Errorf("%w: the target's tick %d of clock %d/%d is below the source's cutoff %d", ErrWALDeltaUnavailable, rp[k], k.PeerID, k.ClockID, c)
		}
	}
	first, end := local.WALRange()
	if len(rp) == 0 {
		// A target that has seen no tagged update (a new or emptied
		// replica): no clock says what it holds, and the WAL may begin
		// with untagged updates (written before the collection was
		// distributed) that no clock covers. Only the whole history serves
		// it. (Qdrant refuses this case outright, WalDeltaError::Empty, and
		// falls back; we do only when the WAL lost its beginning.)
		if first != 0 {
			return 0, fmt.Errorf("%w: the target has no recovery point and the WAL no longer starts at the shard's first operation (%d)", ErrWALDeltaUnavailable, first)
		}
		return 0, nil
	}
	if len(behind) == 0 {
		return end, nil
	}
	start := uint64(math.MaxUint64)
	covered := map[ops.ClockKey]bool{}
	seen := map[ops.ClockKey]bool{}
	err := local.ReadWAL(first, func(u shard.LoggedUpdate) error {
		if u.OperationID >= end {
			return nil
		}
		if u.Tag == nil || u.Tag.Tick == 0 {
			return nil
		}
		k := u.Tag.Key()
		t, ok := behind[k]
		if !ok {
			return nil
		}
		if !seen[k] {
			// The first record of the clock in the WAL: the target's
			// tick (or the one after it) must be here or later.
			seen[k] = true
			covered[k] = u.Tag.Tick <= t+1
		}
		if u.Tag.Tick > t && u.OperationID < start {
			start = u.OperationID
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read the WAL: %w", err)
	}
	for k, t := range behind {
		if !covered[k] {
			return 0, fmt.Errorf("%w: the WAL no longer holds the operations of clock %d/%d after tick %d", ErrWALDeltaUnavailable, k.PeerID, k.ClockID, t)
		}
	}
	if start == math.MaxUint64 {
		return end, nil
	}
	return start, nil
}
