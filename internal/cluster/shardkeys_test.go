package cluster

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
)

func TestParseShardKey(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{`"eu"`, `"eu"`, true},
		{` "a\u0062" `, `"ab"`, true},
		{`12`, `12`, true},
		{`18446744073709551615`, `18446744073709551615`, true},
		{`18446744073709551616`, ``, false},
		{`-1`, ``, false},
		{`1.5`, ``, false},
		{`null`, ``, false},
		{`{}`, ``, false},
		{``, ``, false},
		{`"unterminated`, ``, false},
	} {
		got, err := ParseShardKey(json.RawMessage(tc.in))
		if (err == nil) != tc.ok || string(got) != tc.want {
			t.Errorf("ParseShardKey(%s) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	if k, _ := ParseShardKey(json.RawMessage(`"12"`)); k == ShardKey("12") {
		t.Error("the string \"12\" and the number 12 must be different keys")
	}
	if s := ShardKey(`"eu"`).String(); s != "eu" {
		t.Errorf("String() = %q, want eu", s)
	}
}

func customState(t *testing.T) *State {
	s := New()
	mustApply(t, s,
		AddPeer{ID: 1, URI: "http://p1:6335"},
		AddPeer{ID: 2, URI: "http://p2:6335"},
		AddPeer{ID: 3, URI: "http://p3:6335"},
		CreateCollection{Name: "c", ShardNumber: 2, ReplicationFactor: 2, WriteConsistencyFactor: 1, ShardingMethod: ShardingCustom},
		CreateCollection{Name: "auto", ShardNumber: 1, ReplicationFactor: 1, WriteConsistencyFactor: 1},
	)
	return s
}

func TestShardKeys(t *testing.T) {
	s := customState(t)
	c, _ := s.Collection("c")
	if len(c.Shards) != 0 || c.ShardingMethod != ShardingCustom {
		t.Fatalf("a custom collection starts without shards: %+v", c)
	}
	mustApply(t, s, CreateShardKey{Collection: "c", Key: `"eu"`})
	mustApply(t, s, CreateShardKey{Collection: "c", Key: `7`, ShardNumber: 3, ReplicationFactor: 1, Peers: []PeerID{3}})
	c, _ = s.Collection("c")
	eu, ok := c.ShardsOf(`"eu"`)
	if !ok || !reflect.DeepEqual(eu, []ShardID{1, 2}) {
		t.Fatalf("shards of eu = %v, want [1 2] (Qdrant starts custom shards at 1)", eu)
	}
	seven, _ := c.ShardsOf(`7`)
	if !reflect.DeepEqual(seven, []ShardID{3, 4, 5}) {
		t.Fatalf("shards of 7 = %v, want [3 4 5]", seven)
	}
	for _, id := range eu {
		if len(c.Shards[id]) != 2 {
			t.Errorf("shard %d has %d replicas, want the collection's replication factor 2", id, len(c.Shards[id]))
		}
		for _, st := range c.Shards[id] {
			if st != ReplicaInitializing {
				t.Errorf("new replica state %s, want Initializing", st)
			}
		}
	}
	for _, id := range seven {
		if !reflect.DeepEqual(c.Shards[id].Peers(), []PeerID{3}) {
			t.Errorf("shard %d on %v, want the placement [3]", id, c.Shards[id].Peers())
		}
	}
	if k, ok := c.KeyOf(4); !ok || k != `7` {
		t.Errorf("KeyOf(4) = %s, %v", k, ok)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	// Round trip through a snapshot.
	snap := mustSnapshot(t, s)
	back, err := Restore(snap)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Fatal("snapshot round trip changed the state")
	}

	for _, tc := range []struct {
		op   Op
		kind point.Kind
		text string
	}{
		{CreateShardKey{Collection: "c", Key: `"eu"`}, point.KindBadRequest, "Shard key eu already exists"},
		{CreateShardKey{Collection: "auto", Key: `"eu"`}, point.KindBadRequest, "Shard Key eu cannot be created with Auto sharding method"},
		{CreateShardKey{Collection: "c", Key: `"x"`, Peers: []PeerID{9}}, point.KindBadRequest, "placement contains unknown peers: [9]"},
		{CreateShardKey{Collection: "nope", Key: `"x"`}, point.KindNotFound, "nope"},
		{DropShardKey{Collection: "c", Key: `"zz"`}, point.KindBadRequest, "Shard key zz does not exist"},
		{DropShardKey{Collection: "auto", Key: `"eu"`}, point.KindBadRequest, "cannot be removed with Auto sharding method"},
	} {
		before := mustSnapshot(t, s)
		_, err := s.Apply(tc.op)
		var pe *point.Error
		if !errors.As(err, &pe) || pe.Kind != tc.kind || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s %+v: err %v, want kind %v with %q", OpName(tc.op), tc.op, err, tc.kind, tc.text)
		}
		if string(mustSnapshot(t, s)) != string(before) {
			t.Errorf("%s: a refused op changed the state", OpName(tc.op))
		}
	}

	mustApply(t, s, DropShardKey{Collection: "c", Key: `"eu"`})
	c, _ = s.Collection("c")
	if _, ok := c.ShardsOf(`"eu"`); ok || len(c.Shards) != 3 {
		t.Fatalf("after drop: keys %v, %d shards", c.ShardKeys, len(c.Shards))
	}
	// New keys continue after the highest id, never reusing one.
	mustApply(t, s, CreateShardKey{Collection: "c", Key: `"us"`, ShardNumber: 1})
	c, _ = s.Collection("c")
	if us, _ := c.ShardsOf(`"us"`); !reflect.DeepEqual(us, []ShardID{6}) {
		t.Fatalf("shards of us = %v, want [6]", us)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestShardKeyOpsEncode(t *testing.T) {
	active := ReplicaActive
	for _, op := range []Op{
		CreateShardKey{Collection: "c", Key: `"eu"`, ShardNumber: 2, ReplicationFactor: 3, Peers: []PeerID{1, 2}, InitialState: &active},
		CreateShardKey{Collection: "c", Key: `12`},
		DropShardKey{Collection: "c", Key: `12`},
		CreateCollection{Name: "c", ShardNumber: 1, ReplicationFactor: 1, WriteConsistencyFactor: 1, ShardingMethod: ShardingCustom},
	} {
		b, err := Encode(op)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !reflect.DeepEqual(back, op) {
			t.Errorf("round trip of %s: %+v", b, back)
		}
	}
	for _, bad := range []string{
		`{"v":1,"create_shard_key":{"collection_name":"c"}}`,
		`{"v":1,"create_shard_key":{"collection_name":"c","shard_key":null}}`,
		`{"v":1,"create_shard_key":{"collection_name":"c","shard_key":-3}}`,
		`{"v":1,"drop_shard_key":{"collection_name":"c"}}`,
		`{"v":1,"create_collection":{"name":"c","shard_number":1,"replication_factor":1,"write_consistency_factor":1,"sharding_method":"x"}}`,
	} {
		if _, err := Decode([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("Decode(%s) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestCheckShardKeys(t *testing.T) {
	s := customState(t)
	mustApply(t, s, CreateShardKey{Collection: "c", Key: `"eu"`})
	for name, mutate := range map[string]func(c *Collection){
		"key names a missing shard": func(c *Collection) { c.ShardKeys[0].Shards = append(c.ShardKeys[0].Shards, 99) },
		"shard without key":         func(c *Collection) { c.Shards[50] = Replicas{1: ReplicaActive} },
		"keys on auto":              func(c *Collection) { c.ShardingMethod = "" },
		"unknown method":            func(c *Collection) { c.ShardingMethod = "x" },
		"duplicate key":             func(c *Collection) { c.ShardKeys = append(c.ShardKeys, c.ShardKeys[0]) },
	} {
		cp := s.Clone()
		mutate(cp.collections["c"])
		if err := cp.Check(); err == nil {
			t.Errorf("%s: Check accepted it", name)
		}
	}
}
