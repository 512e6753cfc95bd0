package collection

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

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

// TakesUpdates reports whether a replica in the state receives updates:
// every state but Dead, ActiveRead, Initializing and ManualRecovery (a
// Listener takes them without serving reads; transfer targets take them
// while they fill).
func (s ReplicaState) TakesUpdates() bool {
	switch s {
	case ReplicaActive, ReplicaPartial, ReplicaListener, ReplicaPartialSnapshot, ReplicaRecovery,
		ReplicaResharding, ReplicaReshardingScaleDown:
		return true
	}
	return false
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
	mu struct {
		sync.RWMutex
		local      *shard.Shard
		localState ReplicaState
		remotes    map[uint64]remoteReplica
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
	rs.mu.localState = s
	rs.mu.Unlock()
}

// SetRemote adds or updates the replica on r's peer with its state.
func (rs *ReplicaSet) SetRemote(r Remote, s ReplicaState) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.mu.remotes == nil {
		rs.mu.remotes = map[uint64]remoteReplica{}
	}
	rs.mu.remotes[r.Peer()] = remoteReplica{r: r, state: s}
}

// RemoveRemote forgets the replica on peer.
func (rs *ReplicaSet) RemoveRemote(peer uint64) {
	rs.mu.Lock()
	delete(rs.mu.remotes, peer)
	rs.mu.Unlock()
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
// takes them) and the remote ones by peer id.
func (rs *ReplicaSet) updatable() (local *shard.Shard, remotes []Remote) {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	if rs.mu.local != nil && rs.mu.localState.TakesUpdates() {
		local = rs.mu.local
	}
	for _, r := range rs.remotesWhere(ReplicaState.TakesUpdates) {
		remotes = append(remotes, r.remote)
	}
	return local, remotes
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
		if err == nil || isDone(err) || !transportErr(err) {
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

// fanOut runs a read on one readable replica of every shard (readFrom),
// concurrently when there are several, and returns the answers by shard
// id, or the first error in shard order; a context's error comes wrapped
// with the read's name.
func fanOut[T any](ctx context.Context, c *Collection, read string, local func(rs *ReplicaSet, sh *shard.Shard) (T, error), remote func(rs *ReplicaSet, r Remote) (T, error)) ([]T, error) {
	out := make([]T, len(c.shards))
	errs := make([]error, len(c.shards))
	one := func(i int, rs *ReplicaSet) {
		out[i], errs[i] = readFrom(ctx, rs,
			func(sh *shard.Shard) (T, error) { return local(rs, sh) },
			func(r Remote) (T, error) { return remote(rs, r) })
	}
	if len(c.shards) == 1 {
		one(0, c.shards[0])
	} else {
		var wg sync.WaitGroup
		for i, rs := range c.shards {
			wg.Add(1)
			go func() {
				defer wg.Done()
				one(i, rs)
			}()
		}
		wg.Wait()
	}
	for _, err := range errs {
		switch {
		case err == nil:
		case isDone(err):
			return nil, interrupted(read, err)
		default:
			return nil, err
		}
	}
	return out, nil
}
