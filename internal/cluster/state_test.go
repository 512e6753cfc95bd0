package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
)

func mustApply(t testing.TB, s *State, ops ...Op) {
	t.Helper()
	for _, op := range ops {
		if _, err := s.Apply(op); err != nil {
			t.Fatalf("%s: %v", OpName(op), err)
		}
	}
}

// richState has something of everything: peers, collections with configs,
// replica states, transfers, aliases and metadata.
func richState(t testing.TB) *State {
	s := New()
	mustApply(t, s,
		AddPeer{ID: 3, URI: "http://p3:6335"},
		AddPeer{ID: 1, URI: "http://p1:6335"},
		AddPeer{ID: 2, URI: "http://p2:6335"},
		CreateCollection{Name: "docs", Config: json.RawMessage(`{"vectors": {"size": 4, "distance": "Dot"}, "note": "<&>"}`),
			ShardNumber: 3, ReplicationFactor: 2, WriteConsistencyFactor: 1},
		CreateCollection{Name: "tiny", ShardNumber: 1, ReplicationFactor: 1, WriteConsistencyFactor: 1},
		ChangeAliases{Actions: []AliasAction{{Create: &CreateAlias{CollectionName: "docs", AliasName: "prod"}}}},
		SetMetadataKey{Key: "b", Value: json.RawMessage(`[1, 2.50, "x"]`)},
		SetMetadataKey{Key: "a", Value: json.RawMessage(`{"z":1,"a":2}`)},
		CreatePayloadIndex{Collection: "docs", Field: "city", Schema: json.RawMessage(`"keyword"`)},
		CreatePayloadIndex{Collection: "docs", Field: "n", Schema: json.RawMessage(`{ "type": "integer", "range": true }`)},
	)
	c, _ := s.Collection("docs")
	for sh, r := range c.Shards {
		for p := range r {
			mustApply(t, s, SetReplicaState{Collection: "docs", Shard: sh, Peer: p, State: ReplicaActive})
		}
	}
	r := c.Shards[0]
	var from, to PeerID
	for _, p := range s.PeerIDs() {
		if _, ok := r[p]; ok && from == 0 {
			from = p
		} else if !ok {
			to = p
		}
	}
	mustApply(t, s, StartTransfer{Collection: "docs", Transfer: Transfer{Shard: 0, From: from, To: to, Sync: true, Method: TransferSnapshot}})
	return s
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := richState(t)
	snap := mustSnapshot(t, s)
	r, err := Restore(snap)
	if err != nil {
		t.Fatal(err)
	}
	if again := mustSnapshot(t, r); !bytes.Equal(snap, again) {
		t.Fatalf("snapshot changed over a round trip:\n%s\n%s", snap, again)
	}
	for _, name := range s.CollectionNames() {
		a, _ := s.Collection(name)
		b, _ := r.Collection(name)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("collection %s: %+v vs %+v", name, a, b)
		}
	}
	if !reflect.DeepEqual(s.Peers(), r.Peers()) || !reflect.DeepEqual(s.Aliases(), r.Aliases()) {
		t.Error("peers or aliases differ after restore")
	}
	for _, k := range s.MetadataKeys() {
		a, _ := s.Metadata(k)
		b, _ := r.Metadata(k)
		if !bytes.Equal(a, b) {
			t.Errorf("metadata %s: %s vs %s", k, a, b)
		}
	}
	if !bytes.Equal(mustSnapshot(t, s.Clone()), snap) {
		t.Error("clone snapshots differently")
	}
}

// The same ops in another order of map insertions give the same bytes.
func TestSnapshotDeterministic(t *testing.T) {
	a, b := New(), New()
	mustApply(t, a, AddPeer{ID: 1, URI: "u1"}, AddPeer{ID: 2, URI: "u2"}, AddPeer{ID: 10, URI: "u10"},
		SetMetadataKey{Key: "x", Value: json.RawMessage(`1`)}, SetMetadataKey{Key: "y", Value: json.RawMessage(`2`)})
	mustApply(t, b, AddPeer{ID: 10, URI: "u10"}, AddPeer{ID: 2, URI: "u2"}, AddPeer{ID: 1, URI: "u1"},
		SetMetadataKey{Key: "y", Value: json.RawMessage(` 2 `)}, SetMetadataKey{Key: "x", Value: json.RawMessage(`1`)})
	for _, s := range []*State{a, b} {
		mustApply(t, s, CreateCollection{Name: "c", ShardNumber: 5, ReplicationFactor: 2, WriteConsistencyFactor: 1})
	}
	if sa, sb := mustSnapshot(t, a), mustSnapshot(t, b); !bytes.Equal(sa, sb) {
		t.Fatalf("equal states, different snapshots:\n%s\n%s", sa, sb)
	}
}

func TestCloneIsDeep(t *testing.T) {
	s := richState(t)
	before := mustSnapshot(t, s)
	c := s.Clone()
	mustApply(t, c, DeleteCollection{Name: "tiny"}, RemovePeer{ID: 3, Force: true},
		UpdateCollection{Name: "docs", ConfigPatch: json.RawMessage(`{"note":null}`)},
		SetMetadataKey{Key: "a", Value: json.RawMessage(`0`)})
	got, _ := s.Collection("docs")
	got.Shards[0][99] = ReplicaDead // accessors return copies too
	got.Config[0] = 'X'
	got.PayloadSchema["city"][0] = 'X'
	if !bytes.Equal(before, mustSnapshot(t, s)) {
		t.Fatal("changing a clone or an accessor's result changed the original")
	}
}

func TestRestoreRejects(t *testing.T) {
	good := `{"v":1,"peers":{"1":"u1"},"collections":{"c":{"shard_number":1,"replication_factor":1,"write_consistency_factor":1,"shards":{"0":{"1":"Active"}}}},"aliases":{"a":"c"},"metadata":{"k":1}}`
	if _, err := Restore([]byte(good)); err != nil {
		t.Fatalf("the baseline does not restore: %v", err)
	}
	for name, data := range map[string]string{
		"empty":            ``,
		"not json":         `garbage`,
		"trailing":         good + `{}`,
		"version":          `{"v":2}`,
		"no version":       `{}`,
		"unknown field":    `{"v":1,"extra":1}`,
		"peer zero":        `{"v":1,"peers":{"0":"u"}}`,
		"peer no uri":      `{"v":1,"peers":{"1":""}}`,
		"null collection":  `{"v":1,"collections":{"c":null}}`,
		"dangling alias":   `{"v":1,"aliases":{"a":"c"}}`,
		"unknown peer":     `{"v":1,"peers":{"1":"u"},"collections":{"c":{"shard_number":1,"replication_factor":1,"write_consistency_factor":1,"shards":{"0":{"2":"Active"}}}}}`,
		"bad state":        `{"v":1,"peers":{"1":"u"},"collections":{"c":{"shard_number":1,"replication_factor":1,"write_consistency_factor":1,"shards":{"0":{"1":"Napping"}}}}}`,
		"missing shard":    `{"v":1,"peers":{"1":"u"},"collections":{"c":{"shard_number":2,"replication_factor":1,"write_consistency_factor":1,"shards":{"0":{"1":"Active"}}}}}`,
		"shard range":      `{"v":1,"peers":{"1":"u"},"collections":{"c":{"shard_number":1,"replication_factor":1,"write_consistency_factor":1,"shards":{"3":{"1":"Active"}}}}}`,
		"zero factor":      `{"v":1,"peers":{"1":"u"},"collections":{"c":{"shard_number":1,"replication_factor":0,"write_consistency_factor":1,"shards":{"0":{"1":"Active"}}}}}`,
		"transfer no repl": `{"v":1,"peers":{"1":"u","2":"v"},"collections":{"c":{"shard_number":1,"replication_factor":1,"write_consistency_factor":1,"shards":{"0":{"1":"Active"}},"transfers":[{"shard_id":0,"from":1,"to":2,"sync":false,"method":"stream_records"}]}}}`,
		"transfer method":  `{"v":1,"peers":{"1":"u","2":"v"},"collections":{"c":{"shard_number":1,"replication_factor":1,"write_consistency_factor":1,"shards":{"0":{"1":"Active","2":"Partial"}},"transfers":[{"shard_id":0,"from":1,"to":2,"sync":false,"method":"fax"}]}}}`,
		"index no field":   `{"v":1,"peers":{"1":"u"},"collections":{"c":{"shard_number":1,"replication_factor":1,"write_consistency_factor":1,"shards":{"0":{"1":"Active"}},"payload_schema":{"":"keyword"}}}}`,
		"index schema":     `{"v":1,"peers":{"1":"u"},"collections":{"c":{"shard_number":1,"replication_factor":1,"write_consistency_factor":1,"shards":{"0":{"1":"Active"}},"payload_schema":{"x":12}}}}`,
		"alias shadows":    `{"v":1,"peers":{"1":"u"},"collections":{"c":{"shard_number":1,"replication_factor":1,"write_consistency_factor":1,"shards":{"0":{"1":"Active"}}}},"aliases":{"c":"c"}}`,
	} {
		if _, err := Restore([]byte(data)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Restore gave %v, want ErrMalformed", name, err)
		}
	}
}

func TestAccessors(t *testing.T) {
	s := richState(t)
	if got, ok := s.Resolve("prod"); !ok || got != "docs" {
		t.Errorf("Resolve(prod) = %q, %v", got, ok)
	}
	if got, ok := s.Resolve("tiny"); !ok || got != "tiny" {
		t.Errorf("Resolve(tiny) = %q, %v", got, ok)
	}
	if _, ok := s.Resolve("nope"); ok {
		t.Error("Resolve(nope) found something")
	}
	if got := s.AliasesOf("docs"); !reflect.DeepEqual(got, []string{"prod"}) {
		t.Errorf("AliasesOf(docs) = %v", got)
	}
	if uri, ok := s.PeerURI(2); !ok || uri != "http://p2:6335" {
		t.Errorf("PeerURI(2) = %q, %v", uri, ok)
	}
	total := 0
	for _, n := range s.PeerLoad() {
		total += n
	}
	if total != 3*2+1*1+1 { // docs, tiny, and the transfer target
		t.Errorf("PeerLoad totals %d: %v", total, s.PeerLoad())
	}
	if v, _ := s.Metadata("b"); string(v) != `[1,2.50,"x"]` {
		t.Errorf("metadata b = %s", v)
	}
	if c, _ := s.Collection("docs"); string(c.Config) != `{"vectors":{"size":4,"distance":"Dot"},"note":"\u003c\u0026\u003e"}` {
		t.Errorf("config not canonical: %s", c.Config)
	}
}

func TestUnknownOps(t *testing.T) {
	if _, err := Encode(&AddPeer{ID: 1, URI: "u"}); err == nil {
		t.Error("Encode took a pointer op")
	}
	if _, err := Encode(nil); err == nil {
		t.Error("Encode took nil")
	}
	_, err := New().Apply(&AddPeer{ID: 1, URI: "u"})
	if point.KindOf(err) != point.KindBadRequest {
		t.Errorf("Apply of a pointer op: %v", err)
	}
	for _, data := range []string{`{"v":1}`, `{"v":1,"add_peer":{"peer_id":1,"uri":"u"},"remove_peer":{"peer_id":1}}`, `{"v":0,"add_peer":{}}`, `null`} {
		if _, err := Decode([]byte(data)); !errors.Is(err, ErrMalformed) {
			t.Errorf("Decode(%s) = %v, want ErrMalformed", data, err)
		}
	}
}

// randomOp draws an op over a small universe of names and ids, so that
// sequences hit both the valid paths and the validation errors.
func randomOp(rng *rand.Rand) Op {
	peer := func() PeerID { return PeerID(rng.IntN(5)) }
	coll := func() string { return []string{"a", "b", "c"}[rng.IntN(3)] }
	shard := func() ShardID { return ShardID(rng.IntN(3)) }
	state := func() ReplicaState { return ReplicaState(1 + rng.IntN(len(replicaStateNames)-1)) }
	key := func() TransferKey { return TransferKey{Shard: shard(), From: peer(), To: peer()} }
	methods := []TransferMethod{"", TransferStreamRecords, TransferSnapshot, TransferWALDelta}
	switch rng.IntN(15) {
	case 14:
		if rng.IntN(2) == 0 {
			return DropPayloadIndex{Collection: coll(), Field: []string{"f", "g"}[rng.IntN(2)]}
		}
		return CreatePayloadIndex{Collection: coll(), Field: []string{"f", "g"}[rng.IntN(2)], Schema: json.RawMessage([]string{`"keyword"`, `{"type":"integer"}`}[rng.IntN(2)])}
	case 0, 1:
		p := peer()
		return AddPeer{ID: p, URI: fmt.Sprintf("http://p%d", p)}
	case 2:
		return RemovePeer{ID: peer(), Force: rng.IntN(2) == 0}
	case 3:
		return UpdatePeerURI{ID: peer(), URI: fmt.Sprintf("http://q%d", rng.IntN(5))}
	case 4:
		return CreateCollection{Name: coll(), ShardNumber: uint32(1 + rng.IntN(3)), ReplicationFactor: uint32(1 + rng.IntN(3)), WriteConsistencyFactor: 1}
	case 5:
		return DeleteCollection{Name: coll()}
	case 6:
		return ChangeAliases{Actions: []AliasAction{
			{Create: &CreateAlias{CollectionName: coll(), AliasName: "x" + coll()}},
			{Rename: &RenameAlias{OldAliasName: "x" + coll(), NewAliasName: "y" + coll()}},
		}[rng.IntN(2):]}
	case 7, 8, 9:
		op := SetReplicaState{Collection: coll(), Shard: shard(), Peer: peer(), State: state()}
		if rng.IntN(3) == 0 {
			from := state()
			op.FromState = &from
		}
		if rng.IntN(2) == 0 {
			op.State = ReplicaActive
		}
		return op
	case 10:
		return RemoveReplica{Collection: coll(), Shard: shard(), Peer: peer()}
	case 11, 12:
		k := key()
		return StartTransfer{Collection: coll(), Transfer: Transfer{Shard: k.Shard, From: k.From, To: k.To, Sync: rng.IntN(2) == 0, Method: methods[rng.IntN(len(methods))]}}
	default:
		if rng.IntN(2) == 0 {
			return FinishTransfer{Collection: coll(), Key: key()}
		}
		return AbortTransfer{Collection: coll(), Key: key()}
	}
}

// A long random walk keeps every invariant, and a peer that restores a
// snapshot midway and applies the rest of the log ends in the same state.
func TestRandomWalk(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	var log []Op
	for range 3000 {
		log = append(log, randomOp(rng))
	}
	s := New()
	var late *State
	changed := 0
	for i, op := range log {
		before := mustSnapshot(t, s)
		res, err := s.Apply(op)
		if err != nil && !bytes.Equal(before, mustSnapshot(t, s)) {
			t.Fatalf("op %d %+v failed (%v) but changed the state", i, op, err)
		}
		if res.Changed {
			changed++
		}
		if err := s.Check(); err != nil {
			t.Fatalf("op %d %+v broke an invariant: %v", i, op, err)
		}
		if late != nil {
			_, _ = late.Apply(op)
		}
		if i == len(log)/2 {
			var rerr error
			if late, rerr = Restore(mustSnapshot(t, s)); rerr != nil {
				t.Fatal(rerr)
			}
		}
	}
	if !bytes.Equal(mustSnapshot(t, s), mustSnapshot(t, late)) {
		t.Fatal("a peer restored from a snapshot diverged")
	}
	if changed < 100 {
		t.Errorf("only %d of %d ops changed the state; the walk explores too little", changed, len(log))
	}
}
