package node

import (
	"context"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
)

// Payload indexes of a distributed collection are collection metadata, as
// in Qdrant 1.19 (do_create_index / do_delete_index): the change is first
// committed through consensus (CreatePayloadIndex, DropPayloadIndex), so
// that every peer lists the index and builds it on its local replicas,
// present and future (topology.go hands the schema to the collection with
// its topology); the REST handler then also sends the operation through
// the shards, for the answer and its wait.

// ProposePayloadIndex commits a create_index or delete_index operation on
// collection c to the cluster's metadata and returns once this peer
// applied it, with the context to send op through the shards under (the
// checks of Update, strict mode's included, are made before the commit,
// once, as Qdrant checks strict mode before it submits the meta
// operation). It does nothing on a single node, or for other operations.
func (n *Node) ProposePayloadIndex(ctx context.Context, c *collection.Collection, op *ops.Operation) (context.Context, error) {
	if n.cl == nil {
		return ctx, nil
	}
	var meta cluster.Op
	switch op.Kind {
	case ops.CreateIndex:
		raw, err := collection.IndexSchema(op)
		if err != nil {
			return ctx, err
		}
		meta = cluster.CreatePayloadIndex{Collection: c.Name(), Field: op.Key, Schema: raw}
	case ops.DeleteIndex:
		meta = cluster.DropPayloadIndex{Collection: c.Name(), Field: op.Key}
	default:
		return ctx, nil
	}
	ctx, err := c.Precheck(ctx, op)
	if err != nil {
		return ctx, err
	}
	_, err = n.cl.propose(ctx, meta)
	return ctx, err
}

// dropIndexLocal is the local effect of a DropPayloadIndex: the
// collection follows the schema without the index, and its local
// replicas drop it.
func (cl *clusterMode) dropIndexLocal(name, field string, coll cluster.Collection) error {
	if err := cl.setTopology(name, coll); err != nil {
		return err
	}
	c, err := cl.n.localCollection(name)
	if err != nil {
		return nil // not here: nothing to drop
	}
	return c.DropLocalIndex(context.Background(), field)
}
