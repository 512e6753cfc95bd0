package collection

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/shard"
)

// The payload schema of a distributed collection (Qdrant's
// payload_index_schema): the payload indexes consensus committed, field
// name -> field_schema. Every peer keeps it, whether or not it holds a
// replica, so that payload_schema lists them on every peer, and every
// local replica gets them: the ones there when an index is created
// (SetTopology after the CreatePayloadIndex of the node), and the ones a
// transfer, a recovery or a restore creates or refills (SetTopology when
// they are created and when they become Active, restoreShard). Indexes
// are only added here: a dropped index is dropped by DropLocalIndex when
// consensus drops it, since a local index the schema does not list may be
// one from before the schema (a collection of an older Shoal).

// payloadSchema returns the committed schema (nil: none, or no topology).
func (c *Collection) payloadSchema() map[string]json.RawMessage {
	if p := c.schema.Load(); p != nil {
		return *p
	}
	return nil
}

// IndexSchema validates a create_index operation's schema the way the
// shards will, and returns its JSON form (what a CreatePayloadIndex of
// consensus carries).
func IndexSchema(op *ops.Operation) (json.RawMessage, error) {
	raw, err := shard.IndexSchema(op.Schema)
	if err != nil {
		return nil, schemaErr(err)
	}
	return raw, nil
}

// ensureIndexes creates on sh every index of schema it lacks or holds with
// another schema, and reports how many it created.
func ensureIndexes(sh *shard.Shard, schema map[string]json.RawMessage) (int, error) {
	if len(schema) == 0 {
		return 0, nil
	}
	var have map[string]segment.IndexInfo
	sh.View(func(r *shard.Reader) { have = r.Indexes() })
	n := 0
	for _, k := range slices.Sorted(maps.Keys(schema)) {
		want, err := segment.ParseIndexSchema(schema[k])
		if err != nil {
			return n, fmt.Errorf("schema of payload index %s: %w", k, err)
		}
		if ix, ok := have[k]; ok && reflect.DeepEqual(ix.Schema, want) {
			continue
		}
		var fs ops.FieldSchema
		if err := json.Unmarshal(schema[k], &fs); err != nil {
			return n, fmt.Errorf("schema of payload index %s: %w", k, err)
		}
		if _, err := sh.Update(context.Background(), &ops.Operation{Kind: ops.CreateIndex, Key: k, Schema: &fs}, true); err != nil {
			return n, fmt.Errorf("create payload index %s: %w", k, err)
		}
		n++
	}
	return n, nil
}

// indexLocals gives every local replica the indexes of the schema.
func (c *Collection) indexLocals(l *layout, schema map[string]json.RawMessage) {
	if len(schema) == 0 {
		return
	}
	for _, rs := range l.sets {
		sh, _ := rs.Local()
		if sh == nil {
			continue
		}
		n, err := ensureIndexes(sh, schema)
		if err != nil {
			// Logged, not returned: a replica that cannot take the index
			// now (closed, or refusing writes after a disk fault) must
			// not hold back the topology changes after this one. The
			// next topology change tries again.
			c.log.Error("creating the payload indexes of the collection's schema on a local replica", "collection", c.name, "shard", rs.id, "err", err)
			continue
		}
		if n > 0 {
			c.log.Info("payload indexes of the collection's schema created on a local replica", "collection", c.name, "shard", rs.id, "created", n)
		}
	}
}

// DropLocalIndex drops a payload index from every local replica (the
// local effect of consensus dropping it from the schema). A replica
// without it is left as it is.
func (c *Collection) DropLocalIndex(ctx context.Context, field string) error {
	c.topoMu.Lock()
	defer c.topoMu.Unlock()
	for _, rs := range c.layout().sets {
		sh, _ := rs.Local()
		if sh == nil {
			continue
		}
		var has bool
		sh.View(func(r *shard.Reader) { _, has = r.Indexes()[field] })
		if !has {
			continue
		}
		if _, err := sh.Update(ctx, &ops.Operation{Kind: ops.DeleteIndex, Key: field}, true); err != nil {
			return fmt.Errorf("collection %s: shard %d: drop payload index %s: %w", c.name, rs.id, field, err)
		}
	}
	return nil
}

// schemaInfo adds to a payload_schema the indexes of the committed schema
// that no local replica holds (a peer without replicas lists them too, as
// every Qdrant peer does), with no points counted here.
func (c *Collection) schemaInfo(out map[string]any) {
	for k, raw := range c.payloadSchema() {
		if _, ok := out[k]; ok {
			continue
		}
		sc, err := segment.ParseIndexSchema(raw)
		if err != nil {
			continue // validated before it was committed
		}
		out[k] = sc.Info(0)
	}
}
