package node

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/point"
)

// Recovery on a cluster peer (Qdrant's _do_recover_from_snapshot, and
// recover_shard_snapshot_impl for one shard). The archive is extracted
// and checked whole first, as on a standalone node: a refused archive
// changes nothing. Then:
//
//  1. A collection that does not exist is created through consensus from
//     the snapshot's configuration (its shard_number, replication_factor,
//     write_consistency_factor); an existing one must have the snapshot's
//     vectors and shard_number, else Qdrant's "Snapshot is not compatible
//     with existing collection".
//  2. Every shard of the snapshot that has a replica on this peer is set
//     Partial through consensus (unless it is the shard's last Active
//     replica, which consensus never deactivates), and its local data is
//     swapped for the snapshot's (collection.RestoreShard, which marks the
//     restored replica so that no wal_delta runs from or to it). A shard
//     of the snapshot with no replica here is skipped, as Qdrant skips it;
//     a local shard the snapshot lacks is left as it is.
//  3. By priority (Qdrant's SnapshotPriority, replica by default), with
//     the other replicas that were Active when the recovery started:
//     none, or no_sync: the restored replica is activated, nothing else;
//     snapshot: it is activated and the others are brought to it, the
//     ones beyond replication_factor dropped, the rest marked Dead, which
//     automatic recovery (recovery.go) fills from this peer; replica: the
//     restored replica is marked Dead and automatic recovery fills it from
//     an Active one (Qdrant asks for that transfer directly; here a
//     replica being filled must be Dead first).
//
// State changes are compare-and-set from the state this recovery left, so
// that a replica another operation changed meanwhile is not overridden:
// the recovery then fails with the reason.

// clusterRecoveryWait bounds the wait for a collection created from a
// snapshot to appear here (its creation is a local effect of consensus).
const clusterRecoveryWait = 30 * time.Second

// recoverClusterFromFile is recoverFromFile on a cluster peer.
func (n *Node) recoverClusterFromFile(ctx context.Context, name, path, checksum, priority string) error {
	cl := n.cl
	if err := checkFileChecksum(path, checksum); err != nil {
		return err
	}
	st, err := n.stageCollectionSnapshot(name, path, "recovering collection from snapshot on the cluster", "priority", priorityOrDefault(priority))
	if err != nil {
		return err
	}
	defer st.remove()
	start, fi, dir, cfg, meta := st.start, st.size, st.dir, st.cfg, st.meta
	c, err := n.clusterCollectionFor(ctx, name, cfg)
	if err != nil {
		return err
	}
	cur, err := c.Config()
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(cfg.Params.Vectors, cur.Params.Vectors) {
		return point.Errorf(point.KindBadRequest, "Snapshot is not compatible with existing collection: Collection vectors: %s Snapshot Vectors: %s",
			jsonOf(cur.Params.Vectors), jsonOf(cfg.Params.Vectors))
	}
	if cfg.Params.ShardNumber != cur.Params.ShardNumber {
		return point.Errorf(point.KindBadRequest, "Snapshot is not compatible with existing collection: Collection shard number: %d Snapshot shard number: %d",
			cur.Params.ShardNumber, cfg.Params.ShardNumber)
	}
	coll, ok := cl.clusterCollection(name)
	if !ok {
		return point.CollectionNotFound(name)
	}
	self := cluster.PeerID(cl.opts.PeerID)
	var local []collection.ShardID
	for _, s := range meta.Shards {
		r, ok := coll.Shards[cluster.ShardID(s.ID)]
		if _, here := r[self]; !ok || !here {
			n.log.Info("the snapshot's shard has no replica on this peer; skipped", "collection", name, "shard", s.ID)
			continue
		}
		if err := c.HasLocalShard(s.ID); err != nil {
			n.log.Warn("the snapshot's shard is placed here but not open yet; skipped", "collection", name, "shard", s.ID)
			continue
		}
		if cl.transferInvolves(name, cluster.ShardID(s.ID), self) {
			return point.Errorf(point.KindBadRequest, "Shard %d of collection %s is in a shard transfer with this peer: recover the snapshot once it ended", s.ID, name)
		}
		local = append(local, s.ID)
	}
	// Deactivate first, as Qdrant: reads leave the replicas about to
	// change, and the failures of updates they take meanwhile are not
	// reported (a Partial replica is being filled).
	left := map[collection.ShardID]cluster.ReplicaState{}
	for _, id := range local {
		r := coll.Shards[cluster.ShardID(id)]
		st := r[self]
		left[id] = st
		if st == cluster.ReplicaPartial || lastActiveReplica(r, self) {
			continue
		}
		if _, err := cl.propose(ctx, cluster.SetReplicaState{Collection: name, Shard: cluster.ShardID(id), Peer: self, State: cluster.ReplicaPartial, FromState: &st}); err != nil {
			return fmt.Errorf("recover snapshot: deactivate the replica of shard %d: %w", id, err)
		}
		left[id] = cluster.ReplicaPartial
	}
	for _, id := range local {
		if err := c.RestoreShard(id, collection.ShardImageDir(dir, id)); err != nil {
			return fmt.Errorf("recover snapshot: shard %d: %w", id, err)
		}
		n.log.Info("shard recovered from snapshot", "collection", name, "shard", id)
		if err := n.settleRestored(ctx, name, id, priority, coll.Shards[cluster.ShardID(id)], left[id]); err != nil {
			return err
		}
	}
	secs := time.Since(start).Seconds()
	n.log.Info("collection recovered from snapshot on the cluster", "collection", name, "shards", len(local), "points", meta.Points(), "bytes", fi,
		"seconds", secs, "mb_per_sec", float64(fi)/(1<<20)/max(secs, 1e-9))
	return nil
}

// clusterCollectionFor returns the local collection name, created through
// consensus from the snapshot's configuration when the cluster has none.
func (n *Node) clusterCollectionFor(ctx context.Context, name string, cfg *collection.Config) (*collection.Collection, error) {
	if _, ok := n.cl.clusterCollection(name); !ok {
		n.log.Info("the collection of the snapshot does not exist; creating it", "collection", name)
		raw, err := json.Marshal(cfg)
		if err != nil {
			return nil, fmt.Errorf("recover snapshot: %w", err)
		}
		var create collection.Config // createCollection sets the factors in it
		if err := json.Unmarshal(raw, &create); err != nil {
			return nil, fmt.Errorf("recover snapshot: %w", err)
		}
		p := cfg.Params
		method := ""
		if p.ShardingMethod != nil {
			method = *p.ShardingMethod
		}
		if err := n.cl.createCollection(ctx, name, &create, p.ShardNumber, max(p.ReplicationFactor, 1), max(p.WriteConsistencyFactor, 1), method); err != nil {
			return nil, err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, clusterRecoveryWait)
	defer cancel()
	for {
		changed := n.cl.stateChanged()
		if c, err := n.localCollection(name); err == nil {
			return c, nil
		}
		select {
		case <-changed:
		case <-time.After(20 * time.Millisecond): // the local effect runs after the state changed
		case <-wctx.Done():
			return nil, point.Errorf(point.KindTimeout, "Timeout: collection %s was created but is not open on this peer yet", name)
		}
	}
}

// settleRestored applies priority to the freshly restored local replica
// of shard id, left in state st by the recovery; before is the shard's
// replicas when the recovery started.
func (n *Node) settleRestored(ctx context.Context, name string, id collection.ShardID, priority string, before cluster.Replicas, st cluster.ReplicaState) error {
	cl := n.cl
	self := cluster.PeerID(cl.opts.PeerID)
	shard := cluster.ShardID(id)
	var others []cluster.PeerID
	for _, p := range slices.Sorted(func(yield func(cluster.PeerID) bool) {
		for p := range before {
			if !yield(p) {
				return
			}
		}
	}) {
		if p != self && before[p] == cluster.ReplicaActive {
			others = append(others, p)
		}
	}
	activate := func() error {
		if st == cluster.ReplicaActive {
			return nil
		}
		from := st
		if _, err := cl.propose(ctx, cluster.SetReplicaState{Collection: name, Shard: shard, Peer: self, State: cluster.ReplicaActive, FromState: &from}); err != nil {
			return fmt.Errorf("recover snapshot: activate the restored replica of shard %d: %w", id, err)
		}
		return nil
	}
	prio := priorityOrDefault(priority)
	if len(others) == 0 || prio == "no_sync" {
		return activate()
	}
	switch prio {
	case "snapshot":
		if err := activate(); err != nil {
			return err
		}
		rf := 1
		if coll, ok := cl.clusterCollection(name); ok {
			rf = max(int(coll.ReplicationFactor), 1)
		}
		remove := max(len(others)-(rf-1), 0)
		for _, p := range others {
			var op cluster.Op
			if remove > 0 {
				remove--
				op = cluster.RemoveReplica{Collection: name, Shard: shard, Peer: p}
			} else {
				active := cluster.ReplicaActive
				op = cluster.SetReplicaState{Collection: name, Shard: shard, Peer: p, State: cluster.ReplicaDead, FromState: &active}
			}
			n.log.Info("the snapshot takes precedence: bringing another replica to it", "collection", name, "shard", id, "peer", p, "op", cluster.OpName(op))
			if _, err := cl.propose(ctx, op); err != nil {
				return fmt.Errorf("recover snapshot: shard %d: replica on peer %d: %w", id, p, err)
			}
		}
	default: // replica
		from := st
		n.log.Info("the other replicas take precedence: the restored replica is recovered from them", "collection", name, "shard", id, "from", others[0])
		if _, err := cl.propose(ctx, cluster.SetReplicaState{Collection: name, Shard: shard, Peer: self, State: cluster.ReplicaDead, FromState: &from}); err != nil {
			return fmt.Errorf("recover snapshot: shard %d: hand the restored replica to recovery: %w", id, err)
		}
	}
	return nil
}

// priorityOrDefault is Qdrant's SnapshotPriority default: replica.
func priorityOrDefault(p string) string {
	if p == "" {
		return "replica"
	}
	return p
}

// lastActiveReplica reports whether p holds the shard's only Active
// replica (consensus refuses to deactivate it).
func lastActiveReplica(r cluster.Replicas, p cluster.PeerID) bool {
	if r[p] != cluster.ReplicaActive {
		return false
	}
	for q, st := range r {
		if q != p && st == cluster.ReplicaActive {
			return false
		}
	}
	return true
}

// transferInvolves reports whether a transfer of the shard has peer as
// its source or target.
func (cl *clusterMode) transferInvolves(name string, shard cluster.ShardID, peer cluster.PeerID) bool {
	coll, ok := cl.clusterCollection(name)
	if !ok {
		return false
	}
	for _, t := range coll.Transfers {
		if t.Shard == shard && (t.From == peer || t.To == peer) {
			return true
		}
	}
	return false
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
