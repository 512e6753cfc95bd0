package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/point"
)

// The transfer driver (Qdrant's shards/transfer/driver.rs): every
// transfer consensus records runs on its source peer. RunTransfers
// follows the state: it starts a driver for each transfer from this peer
// that has none, and cancels the driver of a transfer that is gone
// (finished, aborted, its source or target removed). A driver moves the
// data (collection.TransferShard), then proposes FinishTransfer (the
// target becomes Active; a move drops the source replica), or
// AbortTransfer when it failed. The same loop recovers Dead replicas
// (recovery.go) and aborts the transfers to this peer whose source died.

// transferTarget waits this long for the target to apply the start of a
// transfer (its replica to be Partial or Recovery) before giving up.
const transferTargetWait = 30 * time.Second

// transferSwitchWait bounds how long the source keeps forwarding after
// the finish, until the target has applied it too.
const transferSwitchWait = 10 * time.Second

// transferID names a transfer of one collection.
type transferID struct {
	collection string
	key        cluster.TransferKey
}

// transferRun is a driver running here.
type transferRun struct {
	cancel context.CancelFunc
	method cluster.TransferMethod
	// finishing is set once the driver proposes the finish: the
	// transfer's end in the state is then its own doing, and it keeps
	// running through the switch-over (awaitSwitch) instead of being
	// cancelled with the proxy removed at once.
	finishing atomic.Bool
	mu        sync.Mutex
	// comment is the progress shown in shard_transfers[].comment.
	comment string
}

func (r *transferRun) setComment(s string) {
	r.mu.Lock()
	r.comment = s
	r.mu.Unlock()
}

func (r *transferRun) getComment() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.comment
}

// transferRuns are the drivers running here. Safe for concurrent use.
type transferRuns struct {
	mu      sync.Mutex
	running map[transferID]*transferRun
	// deadSince: when the source of a transfer to this peer was first
	// seen unhealthy (recovery.go).
	deadSince map[transferID]time.Time
}

// comment returns the progress of a transfer driven here ("" none).
func (x *transferRuns) comment(id transferID) string {
	x.mu.Lock()
	r := x.running[id]
	x.mu.Unlock()
	if r == nil {
		return ""
	}
	return r.getComment()
}

// RunTransfers drives the transfers from this peer and recovers its Dead
// replicas, at every change of the cluster state and every retry, until
// ctx ends. The caller owns the goroutine (OpenPeer starts it).
func (n *Node) RunTransfers(ctx context.Context, retry time.Duration) {
	cl := n.cl
	t := time.NewTicker(retry)
	defer t.Stop()
	defer cl.xfers.stopAll()
	for {
		changed := cl.stateChanged()
		cl.syncTransfers(ctx)
		cl.recover(ctx)
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-t.C:
		}
	}
}

// stopAll cancels every driver (the peer is stopping).
func (x *transferRuns) stopAll() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, r := range x.running {
		r.cancel()
	}
}

// syncTransfers starts the drivers of the transfers from this peer that
// have none and cancels those of transfers that are gone.
func (cl *clusterMode) syncTransfers(ctx context.Context) {
	self := cluster.PeerID(cl.opts.PeerID)
	want := map[transferID]cluster.Transfer{}
	cl.mu.Lock()
	for _, name := range cl.state.CollectionNames() {
		c, _ := cl.state.Collection(name)
		for _, t := range c.Transfers {
			if t.From == self {
				want[transferID{collection: name, key: t.Key()}] = t
			}
		}
	}
	cl.mu.Unlock()
	x := &cl.xfers
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.running == nil {
		x.running = map[transferID]*transferRun{}
	}
	for id, r := range x.running {
		if _, ok := want[id]; !ok && !r.finishing.Load() {
			r.cancel()
		}
	}
	for id, t := range want {
		if r, ok := x.running[id]; ok {
			if r.method != t.Method {
				// Restarted with another method: the new driver starts
				// once the old one is gone (its proxy removed).
				r.cancel()
			}
			continue
		}
		if x.shardBusyLocked(id) {
			// A driver of another transfer of the shard still runs (one
			// that finished, in its switch-over): the proxy of a shard is
			// one, so the new driver starts once it is gone.
			continue
		}
		rctx, cancel := context.WithCancel(ctx)
		run := &transferRun{cancel: cancel, method: t.Method, comment: "starting"}
		x.running[id] = run
		if !cl.bg.do(func(bctx context.Context) {
			stop := context.AfterFunc(bctx, cancel)
			defer stop()
			defer cancel()
			cl.drive(rctx, bctx, id.collection, t, run)
			x.mu.Lock()
			if x.running[id] == run {
				delete(x.running, id)
			}
			x.mu.Unlock()
		}) {
			cancel()
			delete(x.running, id)
		}
	}
}

// shardBusyLocked reports whether a driver of another transfer of id's
// shard runs here. The caller holds x.mu.
func (x *transferRuns) shardBusyLocked(id transferID) bool {
	for other := range x.running {
		if other != id && other.collection == id.collection && other.key.Shard == id.key.Shard {
			return true
		}
	}
	return false
}

// transferExists reports whether consensus still records the transfer.
func (cl *clusterMode) transferExists(name string, k cluster.TransferKey) bool {
	c, ok := cl.clusterCollection(name)
	if !ok {
		return false
	}
	for _, t := range c.Transfers {
		if t.Key() == k {
			return true
		}
	}
	return false
}

// drive runs one transfer from this peer to its end.
func (cl *clusterMode) drive(ctx, life context.Context, name string, t cluster.Transfer, run *transferRun) {
	log := cl.n.log.With("collection", name, "shard", t.Shard, "from", t.From, "to", t.To, "method", t.Method, "sync", t.Sync)
	c, err := cl.n.localCollection(name)
	if err != nil {
		cl.abortTransfer(ctx, name, t, log, err)
		return
	}
	shard := collection.ShardID(t.Shard)
	defer func() {
		if err := c.EndTransfer(shard); err != nil {
			log.Warn("an update was not forwarded to the target after the transfer", "err", err)
		}
	}()
	to, ok := cl.remotes.get(uint64(t.To)).(collection.TransferRemote)
	if !ok {
		cl.abortTransfer(ctx, name, t, log, errors.New("the target peer cannot be reached for transfers"))
		return
	}
	start := time.Now()
	log.Info("shard transfer started")
	var last time.Time
	report := func(p collection.TransferProgress) {
		what := "records"
		switch {
		case p.Unit != "":
			what = p.Unit
		case p.Method == collection.TransferWALDelta:
			what = "WAL operations"
		}
		secs := max(time.Since(start).Seconds(), 1e-3)
		run.setComment(fmt.Sprintf("Transferring %s (%s), %d/%d sent, %.1f MB, %.0f/s", what, p.Method, p.Sent, p.Total, float64(p.Bytes)/1e6, float64(p.Sent)/secs))
		if time.Since(last) >= 2*time.Second || p.Sent >= p.Total {
			last = time.Now()
			log.Info("shard transfer progress", "sent", p.Sent, "total", p.Total, "bytes", p.Bytes)
		}
	}
	deadline := time.Now().Add(transferTargetWait)
	var used collection.TransferMethod
	for {
		used, err = c.TransferShard(ctx, shard, to, collection.TransferMethod(t.Method), report)
		if err == nil || !errors.Is(err, collection.ErrTargetNotReady) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		c.EndTransfer(shard)
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	if ctx.Err() != nil {
		log.Info("shard transfer stopped: it was aborted or this peer is stopping")
		return
	}
	if err == nil {
		err = c.TransferErr(shard)
	}
	if err == nil {
		err = cl.switchToPartial(ctx, name, t, to)
	}
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		cl.abortTransfer(ctx, name, t, log, err)
		return
	}
	run.setComment(fmt.Sprintf("Transferred (%s), finishing", used))
	run.finishing.Store(true)
	// From here on the driver runs for the peer's life, not the
	// transfer's (syncTransfers leaves a finishing driver alone; ctx may
	// still end with a state change racing it): the proxy must keep
	// forwarding through the switch-over (awaitSwitch).
	if err := cl.proposeRetrying(life, cluster.FinishTransfer{Collection: name, Key: t.Key()}); err != nil {
		if life.Err() == nil {
			log.Warn("finishing the shard transfer failed", "err", err)
		}
		return
	}
	c.FinishedTransfer(shard)
	cl.awaitSwitch(life, name, shard, to)
	log.Info("shard transfer finished", "method_used", used, "took", time.Since(start).Round(time.Millisecond))
}

// switchGrace is how long the source still forwards once every peer
// reported a commit index past the finish: a peer's collections follow
// its state through the effects queue, a moment after the commit.
const switchGrace = 300 * time.Millisecond

// awaitSwitch keeps the proxy forwarding after the finish until every
// peer follows it (bounded by transferSwitchWait): the target has applied
// it (it refuses to prepare for a transfer again) and every healthy peer
// reported a commit index at least this peer's applied one. A coordinator
// that still saw the target receiving would send it nothing (Recovery) or
// reach the source only: the proxy carries its updates over.
func (cl *clusterMode) awaitSwitch(ctx context.Context, name string, shard collection.ShardID, to collection.TransferRemote) {
	wctx, cancel := context.WithTimeout(ctx, transferSwitchWait)
	defer cancel()
	for wctx.Err() == nil {
		if cl.receivingAgain(name, shard, to.Peer()) {
			// The target's replica was marked Dead again and a new
			// transfer to it runs: it prepares for that one (so it would
			// answer here until transferSwitchWait), which carries every
			// update over itself; a new one from this peer cannot start
			// before this driver ends. Seen in the fault suite: 10 s of a
			// recovery waiting.
			return
		}
		if _, err := to.InitiateTransfer(wctx, name, shard, cl.opts.PeerID, false); err != nil {
			break
		}
		sleepCtx(wctx, 50*time.Millisecond)
	}
	var applied uint64
	if cl.cons != nil {
		applied = cl.cons.Status().Applied
	}
	for wctx.Err() == nil && cl.health != nil {
		behind := false
		for peer, h := range cl.health() {
			if peer != cl.opts.PeerID && h.Healthy() && h.Commit < applied {
				behind = true
			}
		}
		if !behind {
			break
		}
		sleepCtx(wctx, 50*time.Millisecond)
	}
	sleepCtx(wctx, switchGrace)
}

// receivingAgain reports whether consensus records a transfer of shard
// to peer: after this peer's transfer to it finished, a new one.
func (cl *clusterMode) receivingAgain(name string, shard collection.ShardID, peer uint64) bool {
	c, ok := cl.clusterCollection(name)
	if !ok {
		return false
	}
	for _, t := range c.Transfers {
		if t.Shard == cluster.ShardID(shard) && uint64(t.To) == peer {
			return true
		}
	}
	return false
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// abortTransfer proposes the abort of a failed transfer (retrying while
// consensus has no leader); a transfer already gone is fine.
func (cl *clusterMode) abortTransfer(ctx context.Context, name string, t cluster.Transfer, log interface {
	Warn(string, ...any)
}, cause error) {
	log.Warn("shard transfer failed; aborting it", "err", cause)
	if err := cl.proposeRetrying(ctx, cluster.AbortTransfer{Collection: name, Key: t.Key()}); err != nil && ctx.Err() == nil && cl.transferExists(name, t.Key()) {
		log.Warn("aborting the shard transfer failed", "err", err)
	}
}

// errDistributedDisabled refuses cluster operations on a standalone node.
var errDistributedDisabled = point.Errorf(point.KindBadRequest, "Distributed mode disabled")
