package collection

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/shard"
)

func localIndexes(c *Collection, id ShardID) []string {
	rs := c.layout().set(id)
	if rs == nil {
		return nil
	}
	sh, _ := rs.Local()
	if sh == nil {
		return nil
	}
	var keys []string
	sh.View(func(r *shard.Reader) { keys = slices.Sorted(maps.Keys(r.Indexes())) })
	return keys
}

// TestPayloadSchemaFollowsTopology: the payload schema of the topology is
// listed in payload_schema even without a local replica, built on the
// local replicas there, on a replica created later (a transfer's target)
// and on one whose index went missing before it becomes Active; a change
// of type is applied; DropLocalIndex drops it. Without a schema nothing
// changes.
func TestPayloadSchemaFollowsTopology(t *testing.T) {
	c, _ := openSharded(t, 2, dotBody)
	upsert(t, c, vecPoint(1, []float32{1, 0, 0, 0}, 1), vecPoint(2, []float32{0, 1, 0, 0}, 1), vecPoint(3, []float32{0, 0, 1, 0}, 1))
	net := newMemNet()
	remote := func(p uint64) Remote { return &memRemote{net: net, peer: p} }
	top := func(schema map[string]json.RawMessage, shard1 map[uint64]ReplicaState) Topology {
		return Topology{Self: 1, WriteConsistencyFactor: 1, Remote: remote, PayloadSchema: schema, Shards: []ShardPlacement{
			{ID: 0, States: map[uint64]ReplicaState{2: ReplicaActive}},
			{ID: 1, States: shard1},
		}}
	}
	// No local replica of shard 1 yet: the schema alone is listed.
	schema := map[string]json.RawMessage{"city": json.RawMessage(`"keyword"`)}
	if err := c.SetTopology(top(nil, map[uint64]ReplicaState{2: ReplicaActive})); err != nil {
		t.Fatal(err)
	}
	info, err := c.Info()
	if err != nil {
		t.Fatal(err)
	}
	if len(info.PayloadSchema) != 0 {
		t.Fatalf("payload_schema without a schema: %v", info.PayloadSchema)
	}
	if err := c.SetTopology(top(schema, map[uint64]ReplicaState{2: ReplicaActive})); err != nil {
		t.Fatal(err)
	}
	if info, _ = c.Info(); info.PayloadSchema["city"] == nil {
		t.Fatalf("payload_schema of a peer without replicas misses the schema's index: %v", info.PayloadSchema)
	}
	b, _ := json.Marshal(info.PayloadSchema["city"])
	if string(b) != `{"data_type":"keyword","points":0}` {
		t.Fatalf("payload_schema entry %s", b)
	}
	// A replica created here (a transfer's target) comes with the index.
	if err := c.SetTopology(top(schema, map[uint64]ReplicaState{1: ReplicaPartial, 2: ReplicaActive})); err != nil {
		t.Fatal(err)
	}
	if got := localIndexes(c, 1); !slices.Equal(got, []string{"city"}) {
		t.Fatalf("new local replica has indexes %v, want [city]", got)
	}
	// One that lost it (a snapshot from a source without it) gets it back
	// when it becomes Active.
	rs := c.layout().set(1)
	sh, _ := rs.Local()
	if err := c.DropLocalIndex(bg, "city"); err != nil {
		t.Fatal(err)
	}
	if got := localIndexes(c, 1); len(got) != 0 {
		t.Fatalf("DropLocalIndex left %v", got)
	}
	if err := c.SetTopology(top(schema, map[uint64]ReplicaState{1: ReplicaActive, 2: ReplicaActive})); err != nil {
		t.Fatal(err)
	}
	if got := localIndexes(c, 1); !slices.Equal(got, []string{"city"}) {
		t.Fatalf("replica activated without the schema's index: %v", got)
	}
	if again, _ := rs.Local(); again != sh {
		t.Fatal("the local replica was replaced")
	}
	// A new type replaces the old index; an index the schema does not
	// list is kept (one from before the schema).
	schema = map[string]json.RawMessage{"city": json.RawMessage(`{"type":"text"}`)}
	if err := c.SetTopology(top(schema, map[uint64]ReplicaState{1: ReplicaActive, 2: ReplicaActive})); err != nil {
		t.Fatal(err)
	}
	sh.View(func(r *shard.Reader) {
		if ty := r.Indexes()["city"].Schema.Type; ty != "text" {
			t.Fatalf("index type %q after the schema changed to text", ty)
		}
	})
	if err := c.SetTopology(top(nil, map[uint64]ReplicaState{1: ReplicaActive, 2: ReplicaActive})); err != nil {
		t.Fatal(err)
	}
	if got := localIndexes(c, 1); !slices.Equal(got, []string{"city"}) {
		t.Fatalf("an index the schema does not list was dropped: %v", got)
	}
}
