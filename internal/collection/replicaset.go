package collection

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
)

// ReplicaState is the state of one replica of a shard, as consensus
// commits it (the collection mirrors internal/cluster's ReplicaState: the
// same names and the same numbers, so the node converts one to the other
// with a cast; collection does not import cluster).
type ReplicaState uint8

// The replica states, in internal/cluster's order.
const (
	ReplicaActive ReplicaState = iota + 1
	ReplicaDead
	ReplicaPartial
	ReplicaInitializing
	ReplicaListener
	ReplicaPartialSnapshot
	ReplicaRecovery
	ReplicaResharding
	ReplicaReshardingScaleDown
	ReplicaActiveRead
	ReplicaManualRecovery
)

var replicaStateNames = [...]string{
	ReplicaActive:              "Active",
	ReplicaDead:                "Dead",
	ReplicaPartial:             "Partial",
	ReplicaInitializing:        "Initializing",
	ReplicaListener:            "Listener",
	ReplicaPartialSnapshot:     "PartialSnapshot",
	ReplicaRecovery:            "Recovery",
	ReplicaResharding:          "Resharding",
	ReplicaReshardingScaleDown: "ReshardingScaleDown",
	ReplicaActiveRead:          "ActiveRead",
	ReplicaManualRecovery:      "ManualRecovery",
}

// String is Qdrant's name of the state.
func (s ReplicaState) String() string {
	if int(s) < len(replicaStateNames) && replicaStateNames[s] != "" {
		return replicaStateNames[s]
	}
	return fmt.Sprintf("ReplicaState(%d)", uint8(s))
}

// Readable reports whether a replica in the state serves reads (the
// seed's table): Active, ActiveRead, and the states that keep serving
// while a copy of them is made or a resharding drains them.
func (s ReplicaState) Readable() bool {
	switch s {
	case ReplicaActive, ReplicaActiveRead, ReplicaPartialSnapshot, ReplicaReshardingScaleDown:
		return true
	}
	return false
}

// TakesUpdates reports whether a coordinator sends updates to a replica
// in the state (Qdrant's is_updatable): every state but Dead,
// ManualRecovery, and Recovery and PartialSnapshot, which take only forced
// updates (a transfer filling them); a Listener and an Initializing
// replica take them without serving reads.
func (s ReplicaState) TakesUpdates() bool {
	switch s {
	case ReplicaActive, ReplicaPartial, ReplicaInitializing, ReplicaListener, ReplicaResharding,
		ReplicaReshardingScaleDown, ReplicaActiveRead:
		return true
	}
	return false
}

// acceptsUpdate reports whether a local replica in state s applies an
// update sent to it (Qdrant's update_local): the states that take updates,
// and Recovery and PartialSnapshot when the update is forced.
func acceptsUpdate(s ReplicaState, force bool) bool {
	switch s {
	case ReplicaPartialSnapshot, ReplicaRecovery:
		return force
	}
	return s.TakesUpdates()
}

// ErrNoReplica marks a shard with no replica able to serve a request: no
// readable replica for a read, none that takes updates for an update.
var ErrNoReplica = errors.New("no replica available")

// ReplicaSet is one shard of a collection as this peer sees it: its local
// replica (nil when this peer holds none) and the replicas on other peers,
// each with the state consensus committed. Requests pick their replicas
// by state: a read one readable replica (the local one first), an update
// every replica that takes updates.
//
// A ReplicaSet is safe for concurrent use; its states change under its own
// lock, and a request sees one consistent choice of replicas.
type ReplicaSet struct {
	id ShardID
	// ordering serialises the updates this peer leads with medium or
	// strong ordering (Qdrant's write_ordering_lock).
	ordering sync.Mutex
	clocks   clockSet
	// xfer wraps the local replica while a transfer runs from it
	// (transfer_proxy.go).
	xfer transferGate
	mu   struct {
		sync.RWMutex
		local      *shard.Shard
		localState ReplicaState
		remotes    map[uint64]remoteReplica
		// disabled are the peers this peer stopped sending updates to
		// after they failed one (Qdrant's locally disabled peers), with
		// the state they had then: until consensus gives them another.
		disabled map[uint64]ReplicaState
		// changed is closed (and replaced) at every change of a state.
		changed chan struct{}
	}
}

type remoteReplica struct {
	r     Remote
	state ReplicaState
}

// newReplicaSet returns the replica set of shard id with local as its
// Active local replica (nil: none).
func newReplicaSet(id ShardID, local *shard.Shard) *ReplicaSet {
	rs := &ReplicaSet{id: id}
	rs.mu.local = local
	if local != nil {
		rs.mu.localState = ReplicaActive
	}
	return rs
}

// ID is the shard's id.
func (rs *ReplicaSet) ID() ShardID { return rs.id }

// Local returns the local replica and its state (nil, 0 when none).
func (rs *ReplicaSet) Local() (*shard.Shard, ReplicaState) {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	return rs.mu.local, rs.mu.localState
}

// SetLocalState sets the state of the local replica, as consensus
// committed it.
func (rs *ReplicaSet) SetLocalState(s ReplicaState) {
	rs.mu.Lock()
	if rs.mu.localState != s {
		rs.mu.localState = s
		rs.notifyLocked()
	}
	rs.mu.Unlock()
}

// SetRemote adds or updates the replica on r's peer with its state.
func (rs *ReplicaSet) SetRemote(r Remote, s ReplicaState) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.mu.remotes == nil {
		rs.mu.remotes = map[uint64]remoteReplica{}
	}
	old, had := rs.mu.remotes[r.Peer()]
	rs.mu.remotes[r.Peer()] = remoteReplica{r: r, state: s}
	if from, off := rs.mu.disabled[r.Peer()]; off && from != s {
		delete(rs.mu.disabled, r.Peer()) // consensus changed its state
	}
	if !had || old.state != s {
		rs.notifyLocked()
	}
}

// enableIfChanged ends the local disabling of peer once consensus gives
// its replica a state other than the one it had when disabled.
func (rs *ReplicaSet) enableIfChanged(peer uint64, st ReplicaState) {
	rs.mu.Lock()
	if from, off := rs.mu.disabled[peer]; off && from != st {
		delete(rs.mu.disabled, peer)
	}
	rs.mu.Unlock()
}

// RemoveRemote forgets the replica on peer.
func (rs *ReplicaSet) RemoveRemote(peer uint64) {
	rs.mu.Lock()
	if _, ok := rs.mu.remotes[peer]; ok {
		delete(rs.mu.remotes, peer)
		delete(rs.mu.disabled, peer)
		rs.notifyLocked()
	}
	rs.mu.Unlock()
}

// notifyLocked wakes those waiting for a change of state. The caller
// holds rs.mu.
func (rs *ReplicaSet) notifyLocked() {
	if rs.mu.changed != nil {
		close(rs.mu.changed)
		rs.mu.changed = nil
	}
}

// stateOf returns the state of peer's replica (self: the local one).
func (rs *ReplicaSet) stateOf(self, peer uint64) (ReplicaState, bool) {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	return rs.stateLocked(self, peer)
}

func (rs *ReplicaSet) stateLocked(self, peer uint64) (ReplicaState, bool) {
	if peer == self && rs.mu.local != nil {
		return rs.mu.localState, true
	}
	r, ok := rs.mu.remotes[peer]
	return r.state, ok
}

// disable stops updates to peer until consensus changes its state; it
// returns the state peer had and whether it was not disabled yet.
func (rs *ReplicaSet) disable(self, peer uint64) (ReplicaState, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	st, ok := rs.stateLocked(self, peer)
	if !ok {
		return 0, false
	}
	if _, off := rs.mu.disabled[peer]; off {
		return st, false
	}
	if rs.mu.disabled == nil {
		rs.mu.disabled = map[uint64]ReplicaState{}
	}
	rs.mu.disabled[peer] = st
	return st, true
}

// isDisabled reports whether peer is locally disabled.
func (rs *ReplicaSet) isDisabled(peer uint64) bool {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	return rs.isDisabledLocked(peer)
}

// isDisabledLocked reports whether peer is locally disabled. The caller holds
// rs.mu.
func (rs *ReplicaSet) isDisabledLocked(peer uint64) bool {
	_, off := rs.mu.disabled[peer]
	return off
}

// sourceOfTruth reports whether a replica in state s holds every
// acknowledged update (Qdrant's can_be_source_of_truth).
func sourceOfTruth(s ReplicaState) bool {
	return s == ReplicaActive || s == ReplicaActiveRead || s == ReplicaReshardingScaleDown
}

// leader returns the peer that orders an update with ordering o, Qdrant's
// leader_peer_for_update: weak this peer; medium the highest peer whose
// replica is a source of truth and not locally disabled; strong the
// highest peer holding a replica, whatever its state.
func (rs *ReplicaSet) leader(self uint64, o WriteOrdering) (uint64, bool) {
	if o == OrderingWeak {
		return self, true
	}
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	var best uint64
	found := false
	consider := func(p uint64, s ReplicaState) {
		if o == OrderingMedium && (!sourceOfTruth(s) || rs.isDisabledLocked(p)) {
			return
		}
		if !found || p > best {
			best, found = p, true
		}
	}
	if rs.mu.local != nil {
		consider(self, rs.mu.localState)
	}
	for p, r := range rs.mu.remotes {
		consider(p, r.state)
	}
	return best, found
}

// remote returns the remote replica on peer (nil: none).
func (rs *ReplicaSet) remote(peer uint64) Remote {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	return rs.mu.remotes[peer].r
}

// waitInactive waits until none of peers' replicas can be a source of
// truth (a missing one cannot), or until the deadline; it reports
// whether they are all inactive.
func (rs *ReplicaSet) waitInactive(ctx context.Context, self uint64, peers []uint64, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		rs.mu.Lock()
		done := true
		for _, p := range peers {
			if st, ok := rs.stateLocked(self, p); ok && sourceOfTruth(st) {
				done = false
			}
		}
		if done {
			rs.mu.Unlock()
			return true
		}
		if rs.mu.changed == nil {
			rs.mu.changed = make(chan struct{})
		}
		ch := rs.mu.changed
		rs.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// States returns the state of every replica by peer; the local one is
// under self.
func (rs *ReplicaSet) States(self uint64) map[uint64]ReplicaState {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	out := make(map[uint64]ReplicaState, len(rs.mu.remotes)+1)
	if rs.mu.local != nil {
		out[self] = rs.mu.localState
	}
	for p, r := range rs.mu.remotes {
		out[p] = r.state
	}
	return out
}

// replica is one replica chosen for a request: the local shard, or a
// remote peer.
type replica struct {
	local  *shard.Shard
	remote Remote
}

// readable returns the replicas that serve reads, in the order a read
// tries them: the local one, then the remote ones by peer id.
func (rs *ReplicaSet) readable() []replica {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	var out []replica
	if rs.mu.local != nil && rs.mu.localState.Readable() {
		out = append(out, replica{local: rs.mu.local})
	}
	return append(out, rs.remotesWhere(ReplicaState.Readable)...)
}

// updatable returns the replicas that take updates: the local one (if it
// takes them) and the remote ones by peer id, leaving out the locally
// disabled ones.
func (rs *ReplicaSet) updatable() (local *shard.Shard, remotes []Remote) {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	if rs.mu.local != nil && rs.mu.localState.TakesUpdates() {
		local = rs.mu.local
	}
	for _, r := range rs.remotesWhere(ReplicaState.TakesUpdates) {
		if !rs.isDisabledLocked(r.remote.Peer()) {
			remotes = append(remotes, r.remote)
		}
	}
	return local, remotes
}

// skipped returns the replicas (the local one under self) that take updates by the state
// consensus gives them but that this peer disabled after a failed update,
// with their states: an update led here is not sent to them, and counts
// as failed on them.
func (rs *ReplicaSet) skipped(self uint64) map[uint64]ReplicaState {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	var out map[uint64]ReplicaState
	add := func(p uint64, st ReplicaState) {
		if st.TakesUpdates() && rs.isDisabledLocked(p) {
			if out == nil {
				out = map[uint64]ReplicaState{}
			}
			out[p] = st
		}
	}
	if rs.mu.local != nil {
		add(self, rs.mu.localState)
	}
	for p, r := range rs.mu.remotes {
		add(p, r.state)
	}
	return out
}

// enable ends the local disabling of peer if it was disabled from state
// from (a report consensus refused: the replica keeps its state, so this
// peer sends it updates again).
func (rs *ReplicaSet) enable(peer uint64, from ReplicaState) {
	rs.mu.Lock()
	if st, off := rs.mu.disabled[peer]; off && st == from {
		delete(rs.mu.disabled, peer)
		rs.notifyLocked()
	}
	rs.mu.Unlock()
}

// count is the number of replicas, whatever their states.
func (rs *ReplicaSet) count() int {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	n := len(rs.mu.remotes)
	if rs.mu.local != nil {
		n++
	}
	return n
}

// remotesWhere lists the remote replicas whose state passes ok, by peer
// id. The caller holds rs.mu.
func (rs *ReplicaSet) remotesWhere(ok func(ReplicaState) bool) []replica {
	peers := make([]uint64, 0, len(rs.mu.remotes))
	for p, r := range rs.mu.remotes {
		if ok(r.state) {
			peers = append(peers, p)
		}
	}
	slices.Sort(peers)
	out := make([]replica, len(peers))
	for i, p := range peers {
		out[i] = replica{remote: rs.mu.remotes[p].r}
	}
	return out
}

// readFrom runs a read on one readable replica of rs: local runs it on the
// local replica, remote on a remote one. A remote that fails without an
// engine error (a transport failure: no *point.Error in its chain) is
// skipped for the next readable replica; an engine error, a local error,
// or the context's end is the read's answer.
func readFrom[T any](ctx context.Context, rs *ReplicaSet, local func(*shard.Shard) (T, error), remote func(Remote) (T, error)) (T, error) {
	var zero T
	var last error
	for _, r := range rs.readable() {
		if r.local != nil {
			return local(r.local)
		}
		v, err := remote(r.remote)
		if err == nil || isDone(err) || !retryRead(err) {
			return v, err
		}
		last = fmt.Errorf("shard %d on peer %d: %w", rs.id, r.remote.Peer(), err)
		if ctx.Err() != nil {
			return zero, ctx.Err()
		}
	}
	if last != nil {
		return zero, &point.Error{Kind: point.KindUnavailable, Description: fmt.Sprintf("No readable replica of shard %d answered: %v", rs.id, last), Err: last}
	}
	return zero, noReplica(rs.id, "readable")
}

// noReplica is the error of a shard with no replica for a request: the
// kind says unavailable, errors.Is finds ErrNoReplica.
func noReplica(id ShardID, which string) error {
	return &point.Error{Kind: point.KindUnavailable, Description: fmt.Sprintf("No %s replica of shard %d", which, id), Err: ErrNoReplica}
}

// transportErr reports whether a remote's error is a failure to reach it
// rather than the engine's answer: the engine's errors carry a kind.
func transportErr(err error) bool {
	var e *point.Error
	return !errors.As(err, &e)
}
