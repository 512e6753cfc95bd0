package collection

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/shard"
)

// The source side of a shard transfer keeps the target in step with the
// updates that go on meanwhile, as Qdrant's proxy shards do: while a
// transfer runs, the local replica of the shard is wrapped in a proxy
// (shardProxy). Every update applied locally takes the proxy's lock; in
// forward mode (Qdrant's ForwardProxyShard) it is then sent on to the
// target, forced, with its own clock tag, under the same lock as the
// batches of records, so that no batch read before an update reaches the
// target after it. In queue mode (Qdrant's QueueProxyShard, for wal_delta)
// updates are only logged: the sender reads them from the WAL, in order,
// and switches the proxy to forward mode, under its lock, once it has
// caught up.

// forwardTimeout bounds one forwarded update: a client's cancellation must
// not leave an update applied locally and not forwarded.
const forwardTimeout = 30 * time.Second

// finishedForwardTimeout bounds one forward once the transfer finished:
// the target is Active and takes updates from their leaders; the proxy
// only carries those of coordinators whose view still lags. A target that
// does not answer must not hold the proxy's lock (every local update of
// the shard waits on it, and the next transfer of the shard from this
// peer waits for this driver to end) for forwardTimeout: seen in the
// fault suite, 30 s during which a Dead replica's recovery could not
// start. An update it misses is found by the replica check.
const finishedForwardTimeout = forwardSwitchWait + time.Second

// transferGate holds the proxy of a replica set's local replica.
type transferGate struct {
	// mu is held shared by each local update for its whole length, and
	// exclusively to install or remove the proxy: an update that started
	// before the proxy is complete when it is installed.
	mu sync.RWMutex
	p  *shardProxy
}

// shardProxy is the transfer of a local replica to one target.
type shardProxy struct {
	// mu serialises the local updates with the batches of the sender and
	// with the switch from queue to forward mode.
	mu      sync.Mutex
	coll    string
	shard   ShardID
	from    uint64 // this peer, the transfer's source
	to      TransferRemote
	forward bool
	// finished: consensus committed the end of the transfer; the target
	// is Active (or about to be) and takes the updates forwarded now as
	// any replica does, no longer as a transfer's (forwardFinished).
	finished bool
	err      error // the first failed forward: the transfer fails
}

// errProxyBusy refuses a second transfer of a shard already transferred
// from this peer.
var errProxyBusy = errors.New("a transfer of this shard is already running from this peer")

// install wraps the local replica in p.
func (g *transferGate) install(p *shardProxy) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.p != nil {
		return errProxyBusy
	}
	g.p = p
	return nil
}

// remove unwraps the local replica if p wraps it.
func (g *transferGate) remove(p *shardProxy) {
	g.mu.Lock()
	if g.p == p {
		g.p = nil
	}
	g.mu.Unlock()
}

// current returns the proxy installed (nil: none).
func (g *transferGate) current() *shardProxy {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.p
}

// applyLocal applies a tagged update to the local replica, through the
// proxy when a transfer runs. A forward that fails does not fail the
// update (it is applied here); it fails the transfer, which is aborted.
func (rs *ReplicaSet) applyLocal(ctx context.Context, local *shard.Shard, op *ops.Operation, wait bool, tag ops.ClockTag) (shard.ClockResult, error) {
	rs.xfer.mu.RLock()
	defer rs.xfer.mu.RUnlock()
	p := rs.xfer.p
	if p == nil {
		return local.UpdateWithClock(ctx, op, wait, tag)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// The forward sends the operation as it came: applying it may change
	// the value in place (the shard takes ownership of its points).
	fwd, cerr := cloneOp(op)
	if cerr != nil {
		p.err = cerr
	}
	res, err := local.UpdateWithClock(ctx, op, wait, tag)
	if (err != nil && !errors.Is(err, shard.ErrDeferredTimeout)) || res.Rejected || !p.forward || p.err != nil {
		return res, err
	}
	limit := forwardTimeout
	if p.finished {
		limit = finishedForwardTimeout
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
	defer cancel()
	// With wait, the target has applied it too when the update is
	// acknowledged, as every replica that takes it directly has.
	if ferr := p.forwardUpdate(fctx, fwd, tag, wait); ferr != nil {
		p.err = ferr
	}
	return res, err
}

// forwardSwitchWait bounds how long a forward tries both ways while the
// target switches from receiving to Active.
const forwardSwitchWait = 2 * time.Second

// forwardUpdate sends an update the source applied on to the target: forced in
// a transfer batch while the target receives, as a plain tagged update
// (its clock decides, as for any replica) once the target applied the
// end of the transfer. Which of the two the target takes changes at the
// finish, which the peers apply one after another: the target's cluster
// state may drop the transfer (refusing the batch) a moment before its
// collection stops receiving (refusing the plain update), and a
// coordinator that still saw the target receiving sent the update only
// here. So both are tried, the likelier first, until one is taken, the
// target cannot be reached, or forwardSwitchWait passes.
func (p *shardProxy) forwardUpdate(ctx context.Context, op *ops.Operation, tag ops.ClockTag, wait bool) error {
	plain := func() error {
		t := tag
		t.Force = false
		_, err := p.to.Update(ctx, p.coll, p.shard, op, RemoteUpdate{Wait: wait, Tag: &t})
		return err
	}
	forced := func() error { return p.send(ctx, op, tag, wait) }
	first, second := forced, plain
	if p.finished {
		first, second = plain, forced
	}
	deadline := time.Now().Add(forwardSwitchWait)
	for {
		err := first()
		if err == nil || transportErr(err) {
			return err
		}
		if err2 := second(); err2 == nil || transportErr(err2) {
			return err2
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("forward an update to the target: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("forward an update to the target: %w", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// FinishedTransfer switches the proxy of the transfer running from shard
// id (if any) to forwarding as after the end of the transfer: the node
// calls it once consensus committed the end, until EndTransfer.
func (c *Collection) FinishedTransfer(id ShardID) {
	rs := c.layout().set(id)
	if rs == nil {
		return
	}
	if p := rs.xfer.current(); p != nil {
		p.mu.Lock()
		p.finished = true
		p.mu.Unlock()
	}
}

// send sends one update to the target, forced (the target applies it
// whatever its clocks say: it is catching up), with tag (a zero tick for
// records and untagged updates: it moves no clock).
func (p *shardProxy) send(ctx context.Context, op *ops.Operation, tag ops.ClockTag, wait bool) error {
	return p.sendBatch(ctx, TransferBatch{Updates: []TaggedUpdate{{Op: op, Tag: tag}}, Wait: wait})
}

// sendBatch sends a batch of the transfer to the target (every update
// forced).
func (p *shardProxy) sendBatch(ctx context.Context, b TransferBatch) error {
	for i := range b.Updates {
		b.Updates[i].Tag.Force = true
	}
	_, err := p.to.TransferUpdates(ctx, p.coll, p.shard, p.from, b)
	return err
}

// failure returns the first forward that failed, under the lock.
func (p *shardProxy) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// cloneOp is a deep copy of op, through its encoding.
func cloneOp(op *ops.Operation) (*ops.Operation, error) {
	b, err := op.Encode()
	if err != nil {
		return nil, err
	}
	return ops.DecodeOperation(b)
}
