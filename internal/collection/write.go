package collection

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
)

// The write path of a replica set (Qdrant's replica_set/update.rs): an
// update's part for one shard goes to the shard's ordering leader, which
// tags it with one of its clocks and applies it on every replica that
// takes updates, then decides from the answers and the write consistency
// factor whether it is acknowledged, refused, or of unknown outcome.

// maxClockAttempts is how many times a leader tries an update that a
// replica rejected for an old tick (Qdrant's
// UPDATE_MAX_CLOCK_REJECTED_RETRIES).
const maxClockAttempts = 3

// defaultDeactivationWait bounds how long an update sent with wait waits
// for consensus to deactivate the replicas that failed it.
const defaultDeactivationWait = 10 * time.Second

// String is Qdrant's name of the ordering.
func (o WriteOrdering) String() string {
	switch o {
	case OrderingMedium:
		return "medium"
	case OrderingStrong:
		return "strong"
	}
	return "weak"
}

// outcomeUnknown is the error of an update that may have been applied on
// some replica: of kind internal, errors.Is ErrOutcomeUnknown, its text
// saying "the outcome is unknown".
func outcomeUnknown(cause error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if !strings.Contains(msg, "outcome is unknown") {
		msg += "; the outcome is unknown"
	}
	err := error(ErrOutcomeUnknown)
	if cause != nil {
		err = fmt.Errorf("%w: %w", ErrOutcomeUnknown, cause)
	}
	return &point.Error{Kind: point.KindInternal, Description: msg, Err: err}
}

// isUnknown reports whether a replica's error leaves open whether it
// applied the update: a transport failure, a context's end, an internal
// error, or an answer that says so itself.
func isUnknown(err error) bool {
	if errors.Is(err, ErrOutcomeUnknown) || transportErr(err) || isDone(err) {
		return true
	}
	switch point.KindOf(err) {
	case point.KindInternal, point.KindTimeout:
		return true
	}
	return strings.Contains(err.Error(), "outcome is unknown")
}

// updateSet hands one shard's part of an update (batch, in order) to the
// replicas of rs and returns the operation id of each. Before a topology
// is set the collection is standalone: its local replica applies the
// batch in one step. After, each operation is coordinated on its own
// (coordinate), tagged with a clock.
func (c *Collection) updateSet(ctx context.Context, l *layout, rs *ReplicaSet, batch []*ops.Operation, wait bool) ([]uint64, error) {
	if l.pending {
		return nil, errPending(rs.id)
	}
	if !l.topo {
		local, _ := rs.updatable()
		if local == nil {
			return nil, noReplica(rs.id, "local active")
		}
		first, err := local.UpdateBatch(ctx, batch, wait)
		ids := make([]uint64, len(batch))
		for i := range ids {
			ids[i] = first + uint64(i)
		}
		return ids, err
	}
	ordering := RoutingOf(ctx).Ordering
	ids := make([]uint64, 0, len(batch))
	var timedOut error
	for _, op := range batch {
		id, err := c.coordinate(ctx, l, rs, op, wait, ordering)
		if errors.Is(err, shard.ErrDeferredTimeout) {
			timedOut, err = err, nil
		}
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, timedOut
}

// coordinate runs one update of rs as Qdrant's update_with_consistency:
// the ordering leader of the shard applies it, this peer when it leads
// (holding the shard's ordering lock for medium and strong), else the
// leader over P2P. A forward that does not reach the leader disables it
// here, reports it, and is of unknown outcome.
func (c *Collection) coordinate(ctx context.Context, l *layout, rs *ReplicaSet, op *ops.Operation, wait bool, o WriteOrdering) (uint64, error) {
	leader, ok := rs.leader(l.self, o)
	if !ok {
		return 0, point.Errorf(point.KindUnavailable, "Cannot update shard %s:%d with %s ordering because no leader could be selected: the update was not applied", c.name, rs.id, o)
	}
	if leader == l.self {
		return c.lead(ctx, l, rs, op, wait, o)
	}
	r := rs.remote(leader)
	if r == nil {
		return 0, point.Errorf(point.KindUnavailable, "Cannot update shard %s:%d: leader peer %d is unknown: the update was not applied", c.name, rs.id, leader)
	}
	res, err := r.Update(ctx, c.name, rs.id, op, RemoteUpdate{Wait: wait, Ordering: o})
	if err == nil {
		if wait && !res.Completed {
			return res.OperationID, fmt.Errorf("leader peer %d: %w", leader, shard.ErrDeferredTimeout)
		}
		return res.OperationID, nil
	}
	if transportErr(err) || isDone(err) {
		c.failed(l, rs, leader, err)
		return 0, outcomeUnknown(err, "Failed to apply update with %s ordering via leader peer %d, the outcome is unknown: %v", o, leader, err)
	}
	if isUnknown(err) && !errors.Is(err, ErrOutcomeUnknown) {
		// The leader's own answer, over the wire: keep the marker.
		return 0, &point.Error{Kind: point.KindInternal, Description: point.DescriptionOf(err), Err: fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)}
	}
	return 0, err
}

// lead runs an update this peer leads for rs: under the ordering lock
// for medium and strong, with a clock of the shard, retried with a newer
// tick when a replica rejects its tick.
func (c *Collection) lead(ctx context.Context, l *layout, rs *ReplicaSet, op *ops.Operation, wait bool, o WriteOrdering) (uint64, error) {
	if o != OrderingWeak {
		rs.ordering.Lock()
		defer rs.ordering.Unlock()
	}
	clk := rs.clocks.get()
	defer rs.clocks.put(clk)
	if clk.fresh {
		seedClock(clk, rs, l.self)
	}
	for range maxClockAttempts {
		id, rejected, err := c.leadOnce(ctx, l, rs, op, wait, o, clk)
		if !rejected {
			return id, err
		}
		c.log.Warn("update rejected by a replica's clock, retrying with a newer tick", "collection", c.name, "shard", rs.id)
	}
	return 0, outcomeUnknown(nil, "Failed to apply the operation to shard %d after %d attempts, all attempts were rejected; the outcome is unknown", rs.id, maxClockAttempts)
}

// answer is one replica's answer to a tagged update.
type answer struct {
	peer     uint64
	state    ReplicaState
	res      RemoteUpdateResult
	timedOut bool // applied, but wait ended before its deferred points showed
	err      error
}

// leadOnce sends one tagged attempt of op to every replica of rs that
// takes updates and decides the outcome (rejected: some replica had a
// newer tick; the caller retries).
func (c *Collection) leadOnce(ctx context.Context, l *layout, rs *ReplicaSet, op *ops.Operation, wait bool, o WriteOrdering, clk *clock) (uint64, bool, error) {
	local, remotes := rs.updatable()
	_, localState := rs.Local()
	total := rs.count()
	if local != nil {
		rs.mu.RLock()
		if rs.isDisabledLocked(l.self) {
			local = nil
		}
		rs.mu.RUnlock()
	}
	if local == nil && len(remotes) == 0 {
		return 0, false, point.Errorf(point.KindUnavailable, "The replica set for shard %d on peer %d has no active replica: the update was not applied", rs.id, l.self)
	}
	need := min(max(l.wcf, 1), total)
	skipped := rs.skipped(l.self)
	if sendable := len(remotes) + btoi(local != nil); len(skipped) > 0 && sendable < need {
		// The replicas disabled here count as failures: the update could
		// not be acknowledged, and applied on fewer it would only make
		// them differ. Refused before any replica applies it.
		c.reportSkipped(l, rs, skipped)
		return 0, false, point.Errorf(point.KindUnavailable, "Update of shard %d needs %d replicas and only %d take updates from peer %d (the others failed earlier updates and wait for consensus to mark them Dead): the update was not applied",
			rs.id, need, sendable, l.self)
	}
	tag := ops.ClockTag{PeerID: l.self, ClockID: clk.id, Tick: clk.tickOnce(), Token: c.token}
	answers := make([]answer, 0, len(remotes)+1)
	if local != nil {
		answers = append(answers, answer{peer: l.self, state: localState})
	}
	for _, r := range remotes {
		st, _ := rs.stateOf(l.self, r.Peer())
		answers = append(answers, answer{peer: r.Peer(), state: st})
	}
	var wg sync.WaitGroup
	for i := range answers {
		a := &answers[i]
		run := func() {
			if local != nil && i == 0 {
				w := wait && a.state != ReplicaListener // a listener only logs it
				res, err := rs.applyLocal(ctx, local, op, w, tag)
				if errors.Is(err, shard.ErrDeferredTimeout) {
					err, a.timedOut = nil, true
				}
				a.res = RemoteUpdateResult{OperationID: res.OperationID, Completed: w && err == nil && !a.timedOut, Rejected: res.Rejected, Tag: res.Tag}
				a.err = err
				return
			}
			t := tag
			a.res, a.err = remotes[i-len(answers)+len(remotes)].Update(ctx, c.name, rs.id, op, RemoteUpdate{Wait: wait, Ordering: o, Tag: &t})
			if a.err == nil && wait && !a.res.Completed && a.state != ReplicaListener {
				a.timedOut = true
			}
		}
		if len(answers) == 1 {
			run()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			run()
		}()
	}
	wg.Wait()

	var ok, failed []*answer
	for i := range answers {
		if answers[i].err == nil {
			ok = append(ok, &answers[i])
		} else {
			failed = append(failed, &answers[i])
		}
	}
	// A replica disabled here after an earlier failure, still taking
	// updates by consensus, did not get the update: it fails it (not sent,
	// so not applied), and is reported again (a report consensus has not
	// committed yet may have been given up). Qdrant leaves such replicas
	// out of the count, which lets a leader cut off from the others
	// acknowledge updates alone that consensus then discards when it
	// marks the leader Dead (docs/faults.md, finding 4).
	for peer, st := range skipped {
		failed = append(failed, &answer{peer: peer, state: st, err: point.Errorf(point.KindUnavailable,
			"the replica of shard %d on peer %d is disabled on peer %d after a failed update: the update was not sent to it", rs.id, peer, l.self)})
	}
	c.reportSkipped(l, rs, skipped)
	for _, a := range ok {
		if a.res.Tag.PeerID == tag.PeerID && a.res.Tag.ClockID == tag.ClockID {
			clk.advanceTo(a.res.Tag.Tick)
		}
	}
	var firstFailure string
	if len(failed) > 0 {
		firstFailure = fmt.Sprintf("Failed peer: %d, error: %v", failed[0].peer, failed[0].err)
	}
	if len(failed) > 0 {
		if len(ok) < need {
			definite := len(ok) == 0
			for _, a := range failed {
				if isUnknown(a.err) {
					definite = false
				}
			}
			if definite {
				return 0, false, failed[0].err
			}
			// Some replica applied it, so the replicas that may not have
			// now differ: they are reported (beyond Qdrant, which reports
			// only when enough replicas applied it and so leaves them
			// Active and different for good; docs/faults.md, finding 1)
			// and recovered from a source of truth.
			if len(ok) > 0 {
				for _, a := range failed {
					if isUnknown(a.err) {
						c.failedAnswer(l, rs, a)
					}
				}
			}
			var peers []string
			for _, a := range failed {
				peers = append(peers, fmt.Sprintf("peer %d: %v", a.peer, a.err))
			}
			return 0, false, outcomeUnknown(failed[0].err, "Update of shard %d was applied by %d of the %d replicas it needs, the outcome is unknown (failed %s)",
				rs.id, len(ok), need, strings.Join(peers, "; "))
		}
		completed := false
		for _, a := range ok {
			completed = completed || a.res.Completed
		}
		var waitFor []uint64
		for _, a := range failed {
			if rs.isDisabled(a.peer) {
				waitFor = append(waitFor, a.peer) // skipped, or failed before
				continue
			}
			if !completed && !isUnknown(a.err) {
				continue // without a completed update, only transient failures deactivate (Qdrant)
			}
			if c.failedAnswer(l, rs, a) && (isUnknown(a.err) || a.state == ReplicaInitializing) {
				waitFor = append(waitFor, a.peer)
			}
		}
		// Acknowledged means every source of truth has it: a replica that
		// missed it must leave Active first, with or without wait (Qdrant
		// waits only with wait; without, an update acknowledged by the
		// WAL of one replica was lost when consensus marked that replica
		// Dead and recovered it from one that missed it; docs/faults.md,
		// finding 2). It waits only when some replica failed.
		if len(waitFor) > 0 && !rs.waitInactive(ctx, l.self, waitFor, c.deactivationWait()) {
			return 0, false, outcomeUnknown(failed[0].err, "Some replica of shard %d failed to apply operation and deactivation timed out after %s. Consistency of this update is not guaranteed, the outcome is unknown. Please retry. %s",
				rs.id, c.deactivationWait(), firstFailure)
		}
	}
	truth := false
	for _, a := range ok {
		truth = truth || sourceOfTruth(a.state)
	}
	if !truth {
		return 0, false, outcomeUnknown(nil, "Failed to apply operation to at least one `Active` replica of shard %d. Consistency of this update is not guaranteed, the outcome is unknown. Please retry. %s", rs.id, firstFailure)
	}
	for _, a := range ok {
		if a.res.Rejected {
			return 0, true, nil
		}
	}
	if len(ok) < total {
		if err := c.confirmMissed(ctx, l, rs, ok); err != nil {
			return 0, false, err
		}
	}
	var id uint64
	timedOut := false
	for _, a := range ok {
		id = max(id, a.res.OperationID)
		timedOut = timedOut || a.timedOut
	}
	if timedOut {
		return id, false, fmt.Errorf("shard %d: %w", rs.id, shard.ErrDeferredTimeout)
	}
	return id, false, nil
}

// reportSkipped reports again the replicas disabled here that consensus
// still has taking updates (an earlier report may have been given up).
func (c *Collection) reportSkipped(l *layout, rs *ReplicaSet, skipped map[uint64]ReplicaState) {
	if l.reporter == nil {
		return
	}
	for peer, st := range skipped {
		if st != ReplicaListener {
			l.reporter.ReplicaFailed(c.name, rs.id, peer, st, errors.New("disabled after a failed update"))
		}
	}
}

// confirmMissed runs before an update that some replicas did not apply is
// acknowledged: none of them may be a source of truth in the cluster's
// current state, not only in this peer's view of it, which may lag (a
// leader that just restarted replays consensus and can still see a
// recovered replica as Dead, send it nothing, and acknowledge). It passes
// the read barrier and looks again; a source of truth that missed the
// update is reported, and the outcome is unknown.
func (c *Collection) confirmMissed(ctx context.Context, l *layout, rs *ReplicaSet, ok []*answer) error {
	if l.barrier == nil {
		return nil
	}
	bctx, cancel := context.WithTimeout(ctx, readBarrierWait)
	err := l.barrier(bctx)
	cancel()
	if err != nil {
		return outcomeUnknown(err, "Update of shard %d was applied by %d replicas, and peer %d could not confirm with consensus that the others are not Active, the outcome is unknown: %v", rs.id, len(ok), l.self, err)
	}
	applied := make(map[uint64]bool, len(ok))
	for _, a := range ok {
		applied[a.peer] = true
	}
	cur := c.layout().set(rs.id)
	if cur == nil {
		cur = rs
	}
	for p, st := range cur.States(l.self) {
		if !applied[p] && sourceOfTruth(st) {
			c.failed(l, cur, p, errors.New("an Active replica missed an update"))
			return outcomeUnknown(nil, "Update of shard %d was not applied by its Active replica on peer %d, the outcome is unknown", rs.id, p)
		}
	}
	return nil
}

// btoi is 1 for true.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// failedAnswer handles a replica that failed an update that others
// applied (Qdrant's handle_failed_replicas): ignored for the states
// Qdrant ignores (Dead, Listener, ManualRecovery) and for the refusals of
// a replica still being filled; otherwise disabled here and reported.
// It reports whether the replica was handled.
func (c *Collection) failedAnswer(l *layout, rs *ReplicaSet, a *answer) bool {
	switch a.state {
	case ReplicaDead, ReplicaListener, ReplicaManualRecovery:
		return false
	case ReplicaPartial, ReplicaRecovery, ReplicaPartialSnapshot:
		// A replica being filled by a transfer that refuses an update
		// (a missing point, or it has not applied the transfer's start
		// yet) misses nothing: the source forwards every update it
		// applies to it (transfer_proxy.go). Only a peer that cannot be
		// reached is reported.
		if !transportErr(a.err) {
			return false
		}
	}
	c.failed(l, rs, a.peer, a.err)
	return true
}

// failed disables peer's replica of rs here and, the first time, reports
// it to consensus (from the state it had).
func (c *Collection) failed(l *layout, rs *ReplicaSet, peer uint64, cause error) {
	from, first := rs.disable(l.self, peer)
	if !first {
		return
	}
	switch from {
	case ReplicaDead, ReplicaListener, ReplicaManualRecovery:
		return
	}
	c.log.Warn("replica failed an update, reporting it", "collection", c.name, "shard", rs.id, "peer", peer, "state", from, "err", cause)
	if l.reporter != nil {
		l.reporter.ReplicaFailed(c.name, rs.id, peer, from, cause)
	}
}

// ReportRefused ends the local disabling of peer's replica of shard after
// consensus refused to mark it Dead from state from (the last Active
// replica, say): the replica keeps its state, so updates led here go to
// it again rather than waiting for a deactivation that will not come.
func (c *Collection) ReportRefused(shard ShardID, peer uint64, from ReplicaState) {
	if rs := c.layout().set(shard); rs != nil {
		rs.enable(peer, from)
	}
}

// deactivationWait is how long an update with wait waits for consensus
// to deactivate the replicas that failed it.
func (c *Collection) deactivationWait() time.Duration {
	if c.deactivation > 0 {
		return c.deactivation
	}
	return defaultDeactivationWait
}

// ReplicaUpdate is an update a peer sent to this peer's replica of shard:
// with opts.Tag set, the local replica applies it if its state takes
// updates (Qdrant's update_local: Recovery and PartialSnapshot only when
// forced) and the tag is accepted (a rejection is a result, not an
// error); with no tag, this peer coordinates it for the shard as the
// ordering leader. Strict mode does not run here: the peer the client
// called checked it.
func (c *Collection) ReplicaUpdate(ctx context.Context, shardID ShardID, op *ops.Operation, opts RemoteUpdate) (RemoteUpdateResult, error) {
	l := c.layout()
	rs := l.set(shardID)
	if rs == nil {
		return RemoteUpdateResult{}, point.Errorf(point.KindNotFound, "Shard %d of collection %s not found on this peer", shardID, c.name)
	}
	if l.pending {
		return RemoteUpdateResult{}, errPending(shardID)
	}
	if opts.Tag == nil {
		var err error
		if l, rs, err = c.awaitLeadership(ctx, shardID, opts.Ordering); err != nil {
			return RemoteUpdateResult{}, err
		}
		id, err := c.lead(ctx, l, rs, op, opts.Wait, opts.Ordering)
		if errors.Is(err, shard.ErrDeferredTimeout) {
			return RemoteUpdateResult{OperationID: id}, nil
		}
		return RemoteUpdateResult{OperationID: id, Completed: opts.Wait && err == nil}, err
	}
	if opts.Tag.Force {
		// Forced updates belong to a transfer: they come only through
		// ReplicaTransferUpdates, which the node checks against its
		// cluster state.
		return RemoteUpdateResult{}, point.Errorf(point.KindBadRequest, "A forced update of shard %d comes only with a shard transfer: the update was not applied", shardID)
	}
	local, st := rs.Local()
	if local == nil || !acceptsUpdate(st, opts.Tag.Force) {
		return RemoteUpdateResult{}, point.Errorf(point.KindUnavailable, "The replica of shard %d on this peer takes no updates in state %s: the update was not applied", shardID, st)
	}
	wait := opts.Wait && st != ReplicaListener
	res, err := rs.applyLocal(ctx, local, op, wait, *opts.Tag)
	if errors.Is(err, shard.ErrDeferredTimeout) {
		return RemoteUpdateResult{OperationID: res.OperationID, Tag: res.Tag}, nil
	}
	return RemoteUpdateResult{OperationID: res.OperationID, Completed: wait && err == nil && !res.Rejected, Rejected: res.Rejected, Tag: res.Tag}, err
}

// leadershipWait bounds how long a peer asked to lead an update waits for
// its own view of the replica states to make it the leader.
const leadershipWait = 2 * time.Second

// awaitLeadership waits until this peer's view makes it the ordering
// leader of shard id for o, and returns the layout and replica set to
// lead with. A coordinator forwards to the leader by its own view, which
// may be ahead of this peer's: at the end of a transfer it may see this
// peer's replica Active while this peer still sees it receiving, and a
// peer that led then would leave its own replica out of the update (a
// receiving replica takes no plain updates) and miss it for good. After
// leadershipWait the update is refused, not applied.
func (c *Collection) awaitLeadership(ctx context.Context, id ShardID, o WriteOrdering) (*layout, *ReplicaSet, error) {
	deadline := time.Now().Add(leadershipWait)
	for {
		l := c.layout()
		rs := l.set(id)
		if rs == nil {
			return nil, nil, point.Errorf(point.KindNotFound, "Shard %d of collection %s not found on this peer", id, c.name)
		}
		leader, ok := rs.leader(l.self, o)
		if ok && leader == l.self {
			return l, rs, nil
		}
		if time.Now().After(deadline) {
			return nil, nil, point.Errorf(point.KindUnavailable, "Peer %d is not the %s ordering leader of shard %s:%d by its view (leader %d): the update was not applied", l.self, o, c.name, id, leader)
		}
		select {
		case <-ctx.Done():
			return nil, nil, point.Errorf(point.KindUnavailable, "Peer %d did not become the %s ordering leader of shard %s:%d: the update was not applied", l.self, o, c.name, id)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// errPending refuses an update before a reopened cluster collection is
// given its topology.
func errPending(id ShardID) error {
	return point.Errorf(point.KindUnavailable, "Shard %d is waiting for the cluster's topology after a restart: the update was not applied", id)
}

// seedClock starts a clock this peer just made past every tick of it its
// own replica has seen. The pool lives in memory (as Qdrant's ClockSet):
// after a restart clock 0 starts again from 0, and a life's ticks would
// repeat those of the life before for other updates. Replicas that hold
// the old ticks echo them when an update reaches them and the clock
// moves past; but the peer's own replica, Dead after the restart, is
// not asked, and once recovered by WAL delta its recovery point claimed
// the new updates under the old ticks, so it never got them
// (docs/faults.md, finding 11).
func seedClock(clk *clock, rs *ReplicaSet, self uint64) {
	clk.fresh = false
	local, _ := rs.Local()
	if local == nil {
		return
	}
	k := ops.ClockKey{PeerID: self, ClockID: clk.id}
	clk.advanceTo(max(local.RecoveryPoint()[k], local.Cutoff()[k]))
}
