package node

import (
	"context"
	"fmt"
	"slices"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
)

// CollectionInfo is GET /collections/{c}: the collection's Info, whose
// points_count, in a cluster, counts every shard as Qdrant's
// Collection::info does (one readable replica per shard answers: the
// local one when it is readable, else a remote one, the next on a
// transport failure; a shard no replica answers for fails the request).
// The other figures (segments, indexed vectors, status) are the local
// replicas'.
func (n *Node) CollectionInfo(ctx context.Context, name string) (*collection.Info, error) {
	c, err := n.Collection(name)
	if err != nil {
		return nil, err
	}
	info, err := c.Info()
	if err != nil || n.cl == nil {
		return info, err
	}
	var total uint64
	for _, rs := range c.Shards() {
		cnt, err := n.cl.shardCount(ctx, c.Name(), rs)
		if err != nil {
			return nil, err
		}
		total += uint64(cnt)
	}
	info.PointsCount = total
	return info, nil
}

// shardCount counts a shard's points on one readable replica.
func (cl *clusterMode) shardCount(ctx context.Context, name string, rs *collection.ReplicaSet) (int, error) {
	self := cl.opts.PeerID
	if l, st := rs.Local(); l != nil && st.Readable() {
		var cnt int
		l.View(func(r *shard.Reader) { cnt = r.Len() })
		return cnt, nil
	}
	states := rs.States(self)
	peers := make([]uint64, 0, len(states))
	for p, st := range states {
		if p != self && st.Readable() {
			peers = append(peers, p)
		}
	}
	slices.Sort(peers)
	var last error
	for _, p := range peers {
		cnt, err := cl.remotes.get(p).Count(ctx, name, rs.ID(), ops.CountRequest{Exact: true})
		if err == nil {
			return cnt, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		last = fmt.Errorf("peer %d: %w", p, err)
	}
	if last != nil {
		return 0, &point.Error{Kind: point.KindUnavailable, Description: fmt.Sprintf("No readable replica of shard %d answered: %v", rs.ID(), last), Err: last}
	}
	return 0, point.Errorf(point.KindUnavailable, "No readable replica of shard %d", rs.ID())
}
