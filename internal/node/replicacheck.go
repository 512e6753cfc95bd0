package node

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
)

// The replica check (beyond Qdrant): every checkEvery, each peer compares
// the clocks of its Active replicas with those of the other Active
// replicas of the same shard. A clock tick another replica has seen and
// this one has not, still missing one check later (so not an update in
// flight), means this replica missed an update: when an ordering leader
// dies between applying an update on some replicas and sending it to the
// others, nobody is left to report the ones that missed it, and they
// would stay Active and different for good (docs/faults.md, finding 1).
// The peer then proposes its own replica Dead, from Active; automatic
// recovery fills it from an Active one (wal_delta carries exactly the
// missing ticks), and the replicas converge. Consensus refuses to
// deactivate a shard's last Active replica.
//
// Clocks keep only the newest tick of each sender: a replica that missed
// an update and then took a newer one of the same clock looks complete.
// So when a replica's clocks equal every other Active replica's two
// rounds in a row (nothing moved), the digests of their points are
// compared (collection.ReplicaDigest, computed once per still replica);
// a replica that differs from more replicas than it agrees with (of two,
// the lower peer) is marked untrusted, so that its recovery sends every
// record, and proposed Dead.

// clocksRemote is the part of a peer's P2P client the check uses.
type clocksRemote interface {
	ReplicaClocks(ctx context.Context, collection string, shard collection.ShardID) (rp, cutoff ops.RecoveryPoint, err error)
	ReplicaDigest(ctx context.Context, collection string, shard collection.ShardID) (rp, cutoff ops.RecoveryPoint, digest uint64, err error)
}

// clocksCall bounds one ReplicaClocks call.
const clocksCall = time.Second

// replicaCheck is the check's memory between rounds: per local replica,
// the ticks another replica had that it lacked.
type replicaCheck struct {
	behind map[replicaKey]ops.RecoveryPoint
	// still are the replicas whose clocks every other Active replica
	// shared the round before, with those clocks: if nothing moved by the
	// next round, their digests are compared.
	still map[replicaKey]ops.RecoveryPoint
	// resynced counts the recoveries a digest difference caused per
	// replica, since its digest last agreed: past maxResyncs the check
	// stops (a difference a full resync does not end is not one it can
	// repair, and recovering forever would only load the cluster).
	resynced map[replicaKey]int
}

// maxResyncs bounds the recoveries in a row a digest difference causes.
const maxResyncs = 3

// RunReplicaCheck runs the replica check every every until ctx ends. The
// caller owns the goroutine (OpenPeer starts it).
func (n *Node) RunReplicaCheck(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var rc replicaCheck
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n.cl.checkReplicas(ctx, &rc)
	}
}

// checkTarget is one local Active replica and the peers holding the other
// Active replicas of its shard.
type checkTarget struct {
	key    replicaKey
	others []uint64
}

// checkReplicas runs one round of the check.
func (cl *clusterMode) checkReplicas(ctx context.Context, rc *replicaCheck) {
	self := cluster.PeerID(cl.opts.PeerID)
	cl.mu.Lock()
	targets := checkTargets(cl.state, self, cl.healthy)
	cl.mu.Unlock()

	next := map[replicaKey]ops.RecoveryPoint{}
	still := map[replicaKey]ops.RecoveryPoint{}
	defer func() { rc.still = still }()
	for _, t := range targets {
		mine, missing, equal, err := cl.missingTicks(ctx, t)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			continue // the next round asks again
		}
		if still := stillMissing(rc.behind[t.key], mine); len(still) > 0 {
			cl.n.log.Warn("replica check: this peer's replica misses updates other replicas applied; proposing it Dead to recover it",
				"collection", t.key.collection, "shard", t.key.shard, "missing_clocks", len(still))
			cl.ReplicaFailed(t.key.collection, collection.ShardID(t.key.shard), uint64(self), collection.ReplicaActive,
				errors.New("replica check: missing updates other replicas applied"))
			continue
		}
		if len(missing) > 0 {
			next[t.key] = missing
		}
		if !equal {
			continue
		}
		if before, ok := rc.still[t.key]; !ok || !maps.Equal(before, mine) {
			still[t.key] = mine // compared next round if nothing moves
			continue
		}
		still[t.key] = mine
		differ, ok := cl.digestsDisagree(ctx, t, mine)
		if !ok {
			continue
		}
		if !differ {
			delete(rc.resynced, t.key)
			continue
		}
		if rc.resynced[t.key] >= maxResyncs {
			if rc.resynced[t.key] == maxResyncs {
				cl.n.log.Error("replica check: this peer's replica still holds other points than the other replicas after full recoveries; leaving it", "collection", t.key.collection, "shard", t.key.shard)
				rc.resynced[t.key]++
			}
			continue
		}
		if c, err := cl.n.localCollection(t.key.collection); err != nil || c.MarkUntrusted(collection.ShardID(t.key.shard)) != nil {
			continue
		}
		if rc.resynced == nil {
			rc.resynced = map[replicaKey]int{}
		}
		rc.resynced[t.key]++
		cl.n.log.Warn("replica check: this peer's replica holds other points than the other replicas with the same clocks; proposing it Dead to recover it",
			"collection", t.key.collection, "shard", t.key.shard)
		cl.ReplicaFailed(t.key.collection, collection.ShardID(t.key.shard), uint64(self), collection.ReplicaActive,
			errors.New("replica check: its points differ from the other replicas'"))
		delete(still, t.key)
	}
	rc.behind = next
}

// checkTargets lists the local replicas the check looks at in state: the
// Active ones with another Active replica on a healthy peer.
func checkTargets(state *cluster.State, self cluster.PeerID, healthy func(uint64) bool) []checkTarget {
	var targets []checkTarget
	for _, name := range state.CollectionNames() {
		c, _ := state.Collection(name)
		// A replica receiving a transfer is left alone (it is not Active
		// anyway); one sending a transfer is checked: a source behind the
		// others would otherwise refill its targets with the same gap, one
		// recovery after another, without ever being told (seen in the
		// fault suite: six recoveries in a row from a source that stayed
		// busy, 25 s).
		busy := map[cluster.ShardID]bool{}
		for _, t := range c.Transfers {
			if t.To == self {
				busy[t.Shard] = true
			}
		}
		for _, id := range slices.Sorted(maps.Keys(c.Shards)) {
			r := c.Shards[id]
			if r[self] != cluster.ReplicaActive || busy[id] {
				continue
			}
			t := checkTarget{key: replicaKey{collection: name, shard: id, peer: self}}
			for _, p := range r.Peers() {
				if p != self && r[p] == cluster.ReplicaActive && healthy(uint64(p)) {
					t.others = append(t.others, uint64(p))
				}
			}
			if len(t.others) > 0 {
				targets = append(targets, t)
			}
		}
	}
	return targets
}

// digestsDisagree compares the digest of the local replica with those of
// the other Active replicas, when all still have the clocks mine (ok:
// they were compared): it reports whether the local replica should be
// recovered from them. It
// should when it differs from more of them than it agrees with, or, of
// two replicas that differ, when it is the lower peer (one of the two
// goes, whichever: an acknowledged update is on both).
func (cl *clusterMode) digestsDisagree(ctx context.Context, t checkTarget, mine ops.RecoveryPoint) (differs, ok bool) {
	c, err := cl.n.localCollection(t.key.collection)
	if err != nil {
		return false, false
	}
	dctx, cancel := context.WithTimeout(ctx, clocksCall)
	defer cancel()
	own, err := c.ReplicaDigest(dctx, collection.ShardID(t.key.shard))
	if err != nil {
		return false, false
	}
	agree, differ := 0, 0
	var higher bool
	for _, p := range t.others {
		r, isRemote := cl.remotes.get(p).(clocksRemote)
		if !isRemote {
			return false, false
		}
		rp, cut, d, err := r.ReplicaDigest(dctx, t.key.collection, collection.ShardID(t.key.shard))
		if err != nil || !maps.Equal(rp.Held(cut), mine) {
			return false, false // moved, or not answering: the next rounds look again
		}
		if d == own {
			agree++
			continue
		}
		differ++
		higher = higher || p > uint64(t.key.peer)
	}
	return differ > agree || (differ == agree && agree == 0 && differ > 0 && higher), true
}

// missingTicks returns the local replica's clocks and, per clock, the
// newest tick another Active replica of t's shard has seen beyond them
// (counting each replica's cutoff: a replica filled by records holds
// what its cutoff says without the ticks).
func (cl *clusterMode) missingTicks(ctx context.Context, t checkTarget) (mine, missing ops.RecoveryPoint, equal bool, err error) {
	c, err := cl.n.localCollection(t.key.collection)
	if err != nil {
		return nil, nil, false, err
	}
	rp, cutoff, err := c.ReplicaClocks(collection.ShardID(t.key.shard))
	if err != nil {
		return nil, nil, false, err
	}
	mine = rp.Held(cutoff)
	missing = ops.RecoveryPoint{}
	equal = true
	for _, p := range t.others {
		r, ok := cl.remotes.get(p).(clocksRemote)
		if !ok {
			return nil, nil, false, fmt.Errorf("peer %d: no replica clocks", p)
		}
		cctx, cancel := context.WithTimeout(ctx, clocksCall)
		orp, ocut, err := r.ReplicaClocks(cctx, t.key.collection, collection.ShardID(t.key.shard))
		cancel()
		if err != nil {
			return nil, nil, false, fmt.Errorf("peer %d: %w", p, err)
		}
		theirs := orp.Held(ocut)
		equal = equal && maps.Equal(theirs, mine)
		for k, tick := range theirs {
			if tick > mine[k] && tick > missing[k] {
				missing[k] = tick
			}
		}
	}
	return mine, missing, equal, nil
}

// stillMissing returns the clocks whose tick another replica had a round
// ago (before) and the local replica still lacks (mine).
func stillMissing(before, mine ops.RecoveryPoint) ops.RecoveryPoint {
	out := ops.RecoveryPoint{}
	for k, was := range before {
		if mine[k] < was {
			out[k] = was
		}
	}
	return out
}

// replicaCheckEvery is the period of the replica check.
const replicaCheckEvery = 2 * time.Second
