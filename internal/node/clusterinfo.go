package node

import (
	"cmp"
	"hash/fnv"
	"path/filepath"
	"slices"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/collection"
)

// CollectionClusterInfo is a collection's shards as this peer sees them:
// Qdrant's CollectionClusterInfo (GET /collections/{name}/cluster).
type CollectionClusterInfo struct {
	PeerID     uint64
	ShardCount int                    // shards, not replicas
	Local      []collection.ShardInfo // this peer's replicas, by shard id
	Remote     []collection.ShardInfo // the other peers' replicas, by shard id then peer
	Transfers  []ShardTransferInfo
}

// ShardTransferInfo is a shard transfer in flight (Qdrant's
// ShardTransferInfo).
type ShardTransferInfo struct {
	Shard    uint32
	From, To uint64
	Sync     bool
	Method   string
	// Comment is the progress of a transfer driven from this peer.
	Comment string
}

// CollectionClusterInfo describes where the shards of a collection (or of
// the collection an alias names) live: from this peer's replica sets, and,
// in a cluster, the transfers consensus records. A standalone node answers
// too, as Qdrant does: its replicas are all local.
func (n *Node) CollectionClusterInfo(name string) (*CollectionClusterInfo, error) {
	c, err := n.Collection(name)
	if err != nil {
		return nil, err
	}
	info := &CollectionClusterInfo{PeerID: n.peerID(), Local: []collection.ShardInfo{}, Remote: []collection.ShardInfo{}, Transfers: []ShardTransferInfo{}}
	shards := map[collection.ShardID]bool{}
	for _, si := range c.ShardInfos() {
		shards[si.ID] = true
		if si.Local {
			si.Peer = info.PeerID
			info.Local = append(info.Local, si)
		} else {
			info.Remote = append(info.Remote, si)
		}
	}
	info.ShardCount = len(shards)
	byShard := func(a, b collection.ShardInfo) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Peer, b.Peer))
	}
	slices.SortStableFunc(info.Local, byShard)
	slices.SortStableFunc(info.Remote, byShard)
	if n.cl != nil {
		if cc, ok := n.cl.clusterCollection(c.Name()); ok {
			for _, t := range cc.Transfers {
				info.Transfers = append(info.Transfers, ShardTransferInfo{Shard: uint32(t.Shard), From: uint64(t.From), To: uint64(t.To), Sync: t.Sync, Method: string(t.Method),
					Comment: n.cl.xfers.comment(transferID{collection: c.Name(), key: t.Key()})})
			}
		}
	}
	return info, nil
}

// peerID is this peer's id. A standalone node has none of its own: it
// answers with the id a previous cluster run kept, else one derived from
// its storage path, stable across restarts as Qdrant's (which persists a
// random one even standalone).
func (n *Node) peerID() uint64 {
	if n.cl != nil {
		return n.cl.opts.PeerID
	}
	if id, ok, err := loadIdentity(n.fs, n.opts.StoragePath); err == nil && ok {
		return id.PeerID
	}
	path := n.opts.StoragePath
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	h := fnv.New64a()
	h.Write([]byte(path))
	return h.Sum64()%maxPeerID + 1
}

// peerCount is the number of peers consensus knows (at least 1).
func (cl *clusterMode) peerCount() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return max(len(cl.state.PeerIDs()), 1)
}

// clusterCollection returns consensus' view of a collection.
func (cl *clusterMode) clusterCollection(name string) (cluster.Collection, bool) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.state.Collection(name)
}
