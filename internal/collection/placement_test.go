package collection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/shard"
)

// TestSetTopologyAddsDropsReopens: SetTopology creates the local replicas
// placed here, drops those that left, changes nothing when repeated, and
// a restart opens the local shards it saved.
func TestSetTopologyAddsDropsReopens(t *testing.T) {
	c, dir := openSharded(t, 2, dotBody)
	upsert(t, c, vecPoint(1, []float32{1, 0, 0, 0}, 1), vecPoint(2, []float32{0, 1, 0, 0}, 1), vecPoint(3, []float32{0, 0, 1, 0}, 1))
	net := newMemNet()
	remote := func(p uint64) Remote { return &memRemote{net: net, peer: p} }
	top := Topology{Self: 1, WriteConsistencyFactor: 1, Remote: remote, Shards: []ShardPlacement{
		{ID: 0, States: map[uint64]ReplicaState{1: ReplicaActive}},
		{ID: 1, States: map[uint64]ReplicaState{2: ReplicaActive}},
		{ID: 2, States: map[uint64]ReplicaState{1: ReplicaInitializing, 2: ReplicaActive}},
	}}
	for range 2 {
		if err := c.SetTopology(top); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(shardDir(dir, 1)); !os.IsNotExist(err) {
		t.Fatalf("shard 1 left this peer and its directory stays: %v", err)
	}
	if _, err := os.Stat(shardDir(dir, 2)); err != nil {
		t.Fatalf("shard 2's new replica: %v", err)
	}
	infos := c.ShardInfos()
	want := []ShardInfo{
		{ID: 0, Peer: 1, Local: true, State: ReplicaActive},
		{ID: 1, Peer: 2, State: ReplicaActive},
		{ID: 2, Peer: 1, Local: true, State: ReplicaInitializing},
		{ID: 2, Peer: 2, State: ReplicaActive},
	}
	for i := range infos {
		infos[i].PointsCount = 0
	}
	if fmt.Sprint(infos) != fmt.Sprint(want) {
		t.Fatalf("infos %+v\nwant %+v", infos, want)
	}
	again := reopen(t, c, dir)
	var ids []ShardID
	for _, rs := range again.layout().sets {
		if sh, _ := rs.Local(); sh != nil {
			ids = append(ids, rs.id)
		}
	}
	if fmt.Sprint(ids) != "[0 2]" || len(again.layout().sets) != 3 {
		t.Fatalf("reopened with local shards %v of %d, want [0 2] of 3", ids, len(again.layout().sets))
	}
	// Until the node hands it its topology: local reads, no updates.
	if n, err := again.Count(bg, ops.CountRequest{Exact: true}); point.KindOf(err) != point.KindUnavailable {
		t.Fatalf("count over a shard with no known replica: %d %v", n, err)
	}
	if n, err := again.Count(WithRouting(bg, Routing{}), ops.CountRequest{}); err == nil {
		t.Fatalf("estimate over a shard with no known replica: %d", n)
	}
	_, err := again.Update(bg, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{vecPoint(9, []float32{1, 0, 0, 0}, 0)}}, true)
	if point.KindOf(err) != point.KindUnavailable || !strings.Contains(err.Error(), "not applied") {
		t.Fatalf("update before the topology: %v", err)
	}
	if err := again.SetTopology(top); err != nil {
		t.Fatal(err)
	}
	if len(again.ShardInfos()) != 4 {
		t.Fatalf("after the replay: %+v", again.ShardInfos())
	}
	// Peer 2 is not reachable in this test: an update of shard 0 (local
	// only) goes through.
	var local0 []ops.PointStruct
	for i := range uint64(50) {
		if again.layout().ring.Shard(point.NumID(i)) == 0 {
			local0 = append(local0, vecPoint(i, []float32{1, 0, 0, 0}, 0))
		}
	}
	if _, err := again.Update(bg, &ops.Operation{Kind: ops.Upsert, Points: local0}, true); err != nil {
		t.Fatalf("update of the local shard after the topology: %v", err)
	}
}

// TestCustomShardingStandalone: shard keys create and drop local shards
// (ids after the highest, the first at 1), writes route by key, reads
// select shards by key, Qdrant's errors, and a restart keeps the keys.
func TestCustomShardingStandalone(t *testing.T) {
	c, dir := openCollection(t, `{"vectors":{"size":4,"distance":"Dot"},"sharding_method":"custom","shard_number":2}`)
	if len(c.layout().sets) != 0 {
		t.Fatalf("a custom collection starts with %d shards", len(c.layout().sets))
	}
	// With no shard, reads answer empty.
	if n, err := c.Count(bg, ops.CountRequest{Exact: true}); err != nil || n != 0 {
		t.Fatalf("count with no shard: %d %v", n, err)
	}
	if recs, next, err := c.Scroll(bg, ops.ScrollRequest{Limit: 10}); err != nil || len(recs) != 0 || next != nil {
		t.Fatalf("scroll with no shard: %v %v %v", recs, next, err)
	}
	if hits, err := c.Search(bg, ops.SearchRequest{Vector: []float32{1, 0, 0, 0}, Limit: 10}); err != nil || len(hits) != 0 {
		t.Fatalf("search with no shard: %v %v", hits, err)
	}
	a, b := ShardKey(`"a"`), ShardKey(`7`)
	if err := c.CreateShardKey(a, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateShardKey(b, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateShardKey(ShardKey(`"huge"`), MaxShardNumber); point.KindOf(err) != point.KindBadInput {
		t.Fatalf("a key of %d shards: %v", MaxShardNumber, err)
	}
	if err := c.CreateShardKey(a, 1); err == nil || point.DescriptionOf(err) != "Shard key a already exists" {
		t.Fatalf("duplicate key: %v", err)
	}
	if got := fmt.Sprint(c.layout().keys); got != `map[a:[1 2] 7:[3]]` {
		t.Fatalf("keys %s", got)
	}
	if got := c.ShardKeys(); len(got) != 2 || got[0] != a || got[1] != b {
		t.Fatalf("ShardKeys %v", got)
	}
	_, err := c.Update(bg, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{vecPoint(1, []float32{1, 0, 0, 0}, 0)}}, true)
	if point.DescriptionOf(err) != "Shard key not specified" || point.KindOf(err) != point.KindBadInput {
		t.Fatalf("no key: %v", err)
	}
	_, err = c.Update(WithRouting(bg, Routing{ShardKeys: []ShardKey{`"zz"`}}), &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{vecPoint(1, []float32{1, 0, 0, 0}, 0)}}, true)
	if point.DescriptionOf(err) != "Shard key zz not found" {
		t.Fatalf("unknown key: %v", err)
	}
	write := func(keys []ShardKey, pts ...ops.PointStruct) {
		t.Helper()
		if _, err := c.Update(WithRouting(bg, Routing{ShardKeys: keys}), &ops.Operation{Kind: ops.Upsert, Points: pts}, true); err != nil {
			t.Fatal(err)
		}
	}
	var inA []ops.PointStruct
	for i := range uint64(20) {
		inA = append(inA, vecPoint(i, []float32{1, 0, 0, 0}, 0))
	}
	write([]ShardKey{a}, inA...)
	write([]ShardKey{b}, vecPoint(100, []float32{0, 1, 0, 0}, 0))
	write([]ShardKey{a, b}, vecPoint(200, []float32{0, 0, 1, 0}, 0)) // to each key
	count := func(r Routing) int {
		t.Helper()
		n, err := c.Count(WithRouting(bg, r), ops.CountRequest{Exact: true})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(Routing{ShardKeys: []ShardKey{a}}); n != 21 {
		t.Fatalf("key a: %d", n)
	}
	if n := count(Routing{ShardKeys: []ShardKey{b}}); n != 2 {
		t.Fatalf("key 7: %d", n)
	}
	if n := count(Routing{ShardKeys: []ShardKey{`"gone"`}, Fallback: b}); n != 2 {
		t.Fatalf("fallback to 7: %d", n)
	}
	for _, id := range []ShardID{1, 2} {
		sh, _ := c.layout().set(id).Local()
		if recs, _, _ := scrollLocal(bg, sh, ops.ScrollRequest{Limit: 100}); len(recs) == 0 {
			t.Fatalf("key a's shard %d holds nothing: the ring spreads over both", id)
		}
	}
	recs, err := c.Retrieve(WithRouting(bg, Routing{ShardKeys: []ShardKey{b}}), []point.ID{point.NumID(1), point.NumID(100)}, ops.PayloadSelector{}, ops.VectorSelector{})
	if err != nil || len(recs) != 1 || recs[0].ID != point.NumID(100) {
		t.Fatalf("retrieve in key 7: %+v %v", recs, err)
	}
	// A search by the vector of a point, without a key: found in key 7.
	q := point.NumID(100)
	if hits, err := c.Search(bg, ops.SearchRequest{QueryID: &q, Limit: 3}); err != nil || len(hits) == 0 {
		t.Fatalf("search by id without a key: %+v %v", hits, err)
	}
	// Filter-addressed: every shard of the key.
	if _, err := c.Update(WithRouting(bg, Routing{ShardKeys: []ShardKey{a}}), &ops.Operation{Kind: ops.Delete, Filter: mustFilter(t, `{"must":[{"key":"w","match":{"value":0}}]}`)}, true); err != nil {
		t.Fatal(err)
	}
	if n := count(Routing{}); n != 2 {
		t.Fatalf("after deleting key a's points: %d", n)
	}
	again := reopen(t, c, dir)
	if got := again.ShardKeys(); len(got) != 2 {
		t.Fatalf("reopened keys %v", got)
	}
	if err := again.DropShardKey(a); err != nil {
		t.Fatal(err)
	}
	if err := again.DropShardKey(a); err == nil || point.DescriptionOf(err) != "Shard key a does not exist" {
		t.Fatalf("drop twice: %v", err)
	}
	if _, err := os.Stat(shardDir(dir, 1)); !os.IsNotExist(err) {
		t.Fatalf("key a's shard stays: %v", err)
	}
	if err := again.CreateShardKey(`"c"`, 1); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(again.layout().keys); got != `map[c:[4] 7:[3]]` {
		t.Fatalf("keys %s", got)
	}
	// An auto collection has no keys.
	auto, _ := openSharded(t, 2, dotBody)
	if err := auto.CreateShardKey(a, 1); point.DescriptionOf(err) != "Shard Key a cannot be created with Auto sharding method" {
		t.Fatalf("auto: %v", err)
	}
	_, err = auto.Update(WithRouting(bg, Routing{ShardKeys: []ShardKey{a}}), &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{vecPoint(1, []float32{1, 0, 0, 0}, 0)}}, true)
	if point.DescriptionOf(err) != "Shard key a not found" {
		t.Fatalf("auto with a key: %v", err)
	}
}

// TestReplicasCustomShardingAcrossPeers: with custom sharding in a
// cluster, each key's shards live where consensus placed them; writes and
// reads with a key reach that key's shards through any peer.
func TestReplicasCustomShardingAcrossPeers(t *testing.T) {
	net := newMemNet()
	body := `{"vectors":{"size":4,"distance":"Dot"},"sharding_method":"custom"}`
	shards := []ShardPlacement{
		{ID: 1, Key: `"a"`, States: map[uint64]ReplicaState{1: ReplicaActive}},
		{ID: 2, Key: `"a"`, States: map[uint64]ReplicaState{1: ReplicaActive, 2: ReplicaActive}},
		{ID: 3, Key: `"b"`, States: map[uint64]ReplicaState{2: ReplicaActive}},
	}
	for _, p := range []uint64{1, 2} {
		c, _ := openCollection(t, body)
		net.peers[p] = c
	}
	for _, p := range []uint64{1, 2} {
		err := net.peers[p].SetTopology(Topology{Self: p, Custom: true, Shards: shards, WriteConsistencyFactor: 1,
			Remote: func(peer uint64) Remote { return &memRemote{net: net, peer: peer} }})
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := net.peers[2].ShardKeys(); fmt.Sprint(got) != "[a b]" {
		t.Fatalf("keys %v", got)
	}
	var pts []ops.PointStruct
	for i := range uint64(10) {
		pts = append(pts, vecPoint(i, []float32{1, 0, 0, 0}, 0))
	}
	keyB := WithRouting(bg, Routing{ShardKeys: []ShardKey{`"b"`}})
	keyA := WithRouting(bg, Routing{ShardKeys: []ShardKey{`"a"`}})
	if _, err := net.peers[1].Update(keyB, &ops.Operation{Kind: ops.Upsert, Points: pts[:4]}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := net.peers[2].Update(keyA, &ops.Operation{Kind: ops.Upsert, Points: pts[4:]}, true); err != nil {
		t.Fatal(err)
	}
	if sh, _ := net.peers[2].layout().set(3).Local(); sh == nil {
		t.Fatal("peer 2 lacks key b's shard")
	} else if recs, _, _ := scrollLocal(bg, sh, ops.ScrollRequest{Limit: 100}); len(recs) != 4 {
		t.Fatalf("key b's shard holds %d points, want 4", len(recs))
	}
	for _, p := range []uint64{1, 2} {
		c := net.peers[p]
		for _, tc := range []struct {
			ctx  context.Context
			want int
		}{{keyA, 6}, {keyB, 4}, {bg, 10}} {
			if n, err := c.Count(tc.ctx, ops.CountRequest{Exact: true}); err != nil || n != tc.want {
				t.Fatalf("peer %d: count %d, want %d: %v", p, n, tc.want, err)
			}
		}
		if recs, err := c.Retrieve(keyA, []point.ID{point.NumID(1), point.NumID(5)}, ops.PayloadSelector{}, ops.VectorSelector{}); err != nil || len(recs) != 1 || recs[0].ID != point.NumID(5) {
			t.Fatalf("peer %d: retrieve in key a: %+v %v", p, recs, err)
		}
	}
	infos := net.peers[1].ShardInfos()
	if len(infos) != 4 || infos[0].Key != `"a"` || infos[3].Key != `"b"` || infos[3].Local {
		t.Fatalf("infos %+v", infos)
	}
	if err := net.peers[1].CreateShardKey(`"c"`, 1); !errors.Is(err, errClusterKeys) {
		t.Fatalf("a key created outside consensus: %v", err)
	}
}

// TestEmptyTopology: a topology with no shard leaves a collection that
// answers reads empty and refuses updates (nothing to apply them).
func TestEmptyTopology(t *testing.T) {
	c, _ := openSharded(t, 2, dotBody)
	if err := c.SetTopology(Topology{Self: 1}); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Count(bg, ops.CountRequest{Exact: true}); err != nil || n != 0 {
		t.Fatalf("count: %d %v", n, err)
	}
	_, err := c.Update(bg, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{vecPoint(1, []float32{1, 0, 0, 0}, 0)}}, true)
	if point.KindOf(err) != point.KindUnavailable {
		t.Fatalf("update: %v", err)
	}
}

// TestShardsFileGarbage: a shards.json that does not decode, or lists a
// shard twice, or a malformed key, fails Open with an error.
func TestShardsFileGarbage(t *testing.T) {
	c, dir := openSharded(t, 2, dotBody)
	cfg, err := c.Config()
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	for _, body := range []string{
		`{`,
		`[]`,
		`{"shards":[{"id":"x"}]}`,
		`{"shards":[{"id":1,"local":true},{"id":1}]}`,
		`{"shards":[{"id":1,"key":"no quotes"}]}`,
		`{"shards":[{"id":1,"key":"-3"}]}`,
		"\x00\xff",
	} {
		if err := os.WriteFile(filepath.Join(dir, shardsFile), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if again, err := Open(nil, dir, "c", cfg, quietLogger()); err == nil {
			again.Close()
			t.Errorf("shards.json %q opened", body)
		}
	}
}

// TestShardKeysCollectionWide: an index created without a shard key
// reaches the shards of every key, and the shards of a key created later
// get it too; a payload set on ids under several keys reaches each point
// under the key that holds it.
func TestShardKeysCollectionWide(t *testing.T) {
	c, _ := openCollection(t, `{"vectors":{"size":4,"distance":"Dot"},"sharding_method":"custom"}`)
	a, b, late := ShardKey(`"a"`), ShardKey(`"b"`), ShardKey(`"late"`)
	for _, k := range []ShardKey{a, b} {
		if err := c.CreateShardKey(k, 1); err != nil {
			t.Fatal(err)
		}
	}
	schema := ops.FieldSchema{}
	if err := json.Unmarshal([]byte(`"keyword"`), &schema); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Update(bg, &ops.Operation{Kind: ops.CreateIndex, Key: "color", Schema: &schema}, true); err != nil {
		t.Fatalf("index without a shard key: %v", err)
	}
	if err := c.CreateShardKey(late, 1); err != nil {
		t.Fatal(err)
	}
	for _, rs := range c.layout().sets {
		l, _ := rs.Local()
		var idx map[string]segment.IndexInfo
		l.View(func(r *shard.Reader) { idx = r.Indexes() })
		if _, ok := idx["color"]; !ok {
			t.Errorf("shard %d has no index on color: %v", rs.id, idx)
		}
	}
	put := func(k ShardKey, id uint64) {
		ctx := WithRouting(bg, Routing{ShardKeys: []ShardKey{k}})
		if _, err := c.Update(ctx, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(id), Vectors: point.Vectors{"": {1, 0, 0, 0}}}}}, true); err != nil {
			t.Fatal(err)
		}
	}
	put(a, 9)
	put(b, 101)
	ctx := WithRouting(bg, Routing{ShardKeys: []ShardKey{a, b}})
	if _, err := c.Update(ctx, &ops.Operation{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(9), point.NumID(101)}, Payload: point.Payload{"color": "black"}}, true); err != nil {
		t.Fatalf("set payload on ids under two keys: %v", err)
	}
	recs, err := c.Retrieve(bg, []point.ID{point.NumID(9), point.NumID(101)}, ops.PayloadSelector{Enable: true}, ops.VectorSelector{})
	if err != nil || len(recs) != 2 {
		t.Fatalf("retrieve: %v %v", recs, err)
	}
	for _, r := range recs {
		if r.Payload["color"] != "black" {
			t.Errorf("point %v: payload %v", r.ID, r.Payload)
		}
	}
	// Under a single key an id the key does not hold is still refused.
	ctx = WithRouting(bg, Routing{ShardKeys: []ShardKey{a}})
	if _, err := c.Update(ctx, &ops.Operation{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(101)}, Payload: point.Payload{"x": 1}}, true); point.KindOf(err) != point.KindNotFound {
		t.Fatalf("set payload under a key that lacks the point: %v", err)
	}
}

// TestFirstTopologySetsAsideData: the first topology of a collection that
// holds points (a cluster collection written before its shards were
// placed) moves a shard placed elsewhere aside instead of deleting its
// points; an empty one (a new collection) is simply dropped.
func TestFirstTopologySetsAsideData(t *testing.T) {
	for _, withPoints := range []bool{true, false} {
		c, dir := openSharded(t, 2, dotBody)
		if withPoints {
			var pts []ops.PointStruct
			for i := range uint64(20) {
				pts = append(pts, vecPoint(i+1, []float32{1, float32(i), 0, 0}, 1))
			}
			upsert(t, c, pts...)
		}
		net := newMemNet()
		top := Topology{Self: 1, WriteConsistencyFactor: 1, Remote: func(p uint64) Remote { return &memRemote{net: net, peer: p} },
			Shards: []ShardPlacement{
				{ID: 0, States: map[uint64]ReplicaState{1: ReplicaActive}},
				{ID: 1, States: map[uint64]ReplicaState{2: ReplicaActive}},
			}}
		if err := c.SetTopology(top); err != nil {
			t.Fatal(err)
		}
		aside, _ := filepath.Glob(shardDir(dir, 1) + ".unplaced-*")
		if withPoints != (len(aside) == 1) {
			t.Fatalf("with points %v: set aside %v", withPoints, aside)
		}
		if _, err := os.Stat(shardDir(dir, 1)); !os.IsNotExist(err) {
			t.Fatalf("shard 1 is still in place: %v", err)
		}
		// A later topology change drops what leaves this peer.
		top.Shards[0].States = map[uint64]ReplicaState{2: ReplicaActive}
		if err := c.SetTopology(top); err != nil {
			t.Fatal(err)
		}
		if again, _ := filepath.Glob(shardDir(dir, 0) + ".unplaced-*"); len(again) != 0 {
			t.Fatalf("a later topology set aside %v", again)
		}
	}
}
