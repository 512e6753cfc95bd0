package collection

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/shard"
	"github.com/shoaldb/shoal/internal/vfs"
)

// The collection's side of the topology: SetTopology follows what
// consensus placed, CreateShardKey and DropShardKey change a standalone
// custom collection, and shards.json remembers the local shards so that a
// restart reopens them before consensus replays.

// shardsFile names the local shards of a collection and their keys.
const shardsFile = "shards.json"

// savedShards is shards.json: every shard with its key, and whether this
// peer holds a replica of it; Cluster when a topology placed them (a
// restart then waits for the next SetTopology before it takes updates).
type savedShards struct {
	Cluster bool         `json:"cluster,omitempty"`
	Self    uint64       `json:"self,omitempty"`
	Shards  []savedShard `json:"shards"`
}

type savedShard struct {
	ID    ShardID  `json:"id"`
	Key   ShardKey `json:"key,omitempty"`
	Local bool     `json:"local"`
}

// loadShards reads shards.json (nil: none, a collection that never had
// its shards changed: its shard_number shards are local).
func (c *Collection) loadShards() (*savedShards, error) {
	b, err := vfs.ReadFile(vfs.OrDefault(c.fsys), filepath.Join(c.dir, shardsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", shardsFile, err)
	}
	var s savedShards
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode %s: %w", shardsFile, err)
	}
	seen := map[ShardID]bool{}
	for _, sh := range s.Shards {
		if seen[sh.ID] {
			return nil, fmt.Errorf("decode %s: shard %d listed twice", shardsFile, sh.ID)
		}
		seen[sh.ID] = true
		if sh.Key != "" {
			if k, err := ParseShardKey([]byte(sh.Key)); err != nil || k != sh.Key {
				return nil, fmt.Errorf("decode %s: shard %d has a malformed key %q", shardsFile, sh.ID, sh.Key)
			}
		}
	}
	return &s, nil
}

// saveShards writes the shards of l to shards.json, atomically.
func (c *Collection) saveShards(l *layout) error {
	s := savedShards{Cluster: l.topo, Self: l.self, Shards: []savedShard{}}
	for _, rs := range l.sets {
		sh, _ := rs.Local()
		s.Shards = append(s.Shards, savedShard{ID: rs.id, Key: l.keyOf(rs.id), Local: sh != nil})
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return vfs.WriteFileAtomic(vfs.OrDefault(c.fsys), filepath.Join(c.dir, shardsFile), func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// setLocal replaces the local replica and its state.
func (rs *ReplicaSet) setLocal(sh *shard.Shard, st ReplicaState) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.mu.local != sh || rs.mu.localState != st {
		rs.mu.local, rs.mu.localState = sh, st
		rs.notifyLocked()
	}
}

// newLocalShard creates the empty local replica of shard id: a directory
// left there by an earlier replica this peer gave up is removed first.
func (c *Collection) newLocalShard(id ShardID) (*shard.Shard, error) {
	cfg, err := c.Config()
	if err != nil {
		return nil, err
	}
	for _, d := range []string{shardDir(c.dir, id), shardDir(c.dir, id) + ".replaced"} {
		if err := vfs.OrDefault(c.fsys).RemoveAll(d); err != nil {
			return nil, fmt.Errorf("remove the old data of shard %d: %w", id, err)
		}
	}
	return c.openShard(cfg, id)
}

// SetTopology brings the collection in line with t: it opens empty local
// shards for the replicas placed on t.Self, drops the local shards whose
// replica left it, and sets the replica states and remote replicas. The
// node calls it after every committed change, in log order; calling it
// again with the same t changes nothing. The new layout is saved
// (shards.json) before it takes effect; requests under way keep the
// layout they started with.
func (c *Collection) SetTopology(t Topology) error {
	if t.Remote == nil {
		for _, p := range t.Shards {
			for peer := range p.States {
				if peer != t.Self {
					return fmt.Errorf("collection %s: topology has remote replicas and no Remote", c.name)
				}
			}
		}
	}
	c.topoMu.Lock()
	defer c.topoMu.Unlock()
	schema := maps.Clone(t.PayloadSchema)
	c.schema.Store(&schema)
	old := c.layout()
	placed := map[ShardID]bool{}
	keyOf := map[ShardID]ShardKey{}
	type change struct {
		rs *ReplicaSet
		sh *shard.Shard // the new local replica; nil: drop the old one
	}
	var sets []*ReplicaSet
	var changes []change
	undo := func() {
		for _, ch := range changes {
			if ch.sh != nil {
				ch.sh.Drop()
			}
		}
	}
	for _, p := range t.Shards {
		if placed[p.ID] {
			undo()
			return fmt.Errorf("collection %s: topology lists shard %d twice", c.name, p.ID)
		}
		placed[p.ID] = true
		if p.Key != "" {
			keyOf[p.ID] = p.Key
		}
		rs := old.set(p.ID)
		if rs == nil {
			rs = newReplicaSet(p.ID, nil)
		}
		sets = append(sets, rs)
		_, here := p.States[t.Self]
		local, _ := rs.Local()
		switch {
		case here && local == nil:
			sh, err := c.newLocalShard(p.ID)
			if err != nil {
				undo()
				return fmt.Errorf("collection %s: create the local replica of shard %d: %w", c.name, p.ID, err)
			}
			changes = append(changes, change{rs: rs, sh: sh})
		case !here && local != nil:
			changes = append(changes, change{rs: rs})
		}
	}
	for _, rs := range old.sets {
		if local, _ := rs.Local(); local != nil && !placed[rs.id] {
			changes = append(changes, change{rs: rs})
		}
	}
	next := newLayout(sets, t.Custom, keyOf)
	next.topo, next.self, next.wcf, next.reporter, next.barrier = true, t.Self, t.WriteConsistencyFactor, t.Reporter, t.ReadBarrier
	// (next.pending stays false: this is the topology a restart waits for.)
	// The saved list is the local shards of next: the new ones are set
	// in the replica sets before it is written.
	var drops []*shard.Shard
	var activated []ShardID // local replicas that become Active
	for _, ch := range changes {
		if ch.sh == nil {
			l, _ := ch.rs.Local()
			drops = append(drops, l)
		}
	}
	prior := map[ShardID]ReplicaState{} // the local states before
	for _, rs := range old.sets {
		if l, st := rs.Local(); l != nil {
			prior[rs.id] = st
		}
	}
	for _, p := range t.Shards {
		rs := next.set(p.ID)
		for _, ch := range changes {
			if ch.rs == rs {
				if ch.sh != nil {
					rs.setLocal(ch.sh, p.States[t.Self])
				} else {
					rs.setLocal(nil, 0)
				}
			}
		}
		if st, here := p.States[t.Self]; here {
			was := prior[p.ID]
			if was != ReplicaActive && st == ReplicaActive {
				activated = append(activated, p.ID)
			}
			if was != ReplicaPartial && st == ReplicaPartial {
				// A Partial replica takes updates before it holds the
				// data: its recovery point is no guide to what it holds
				// until it is Active.
				if err := c.markIncomplete(p.ID); err != nil {
					c.log.Error("marking a partial replica incomplete failed", "collection", c.name, "shard", p.ID, "err", err)
				}
			}
			rs.SetLocalState(st)
			rs.enableIfChanged(t.Self, st)
		}
		for peer, st := range p.States {
			if peer == t.Self {
				continue
			}
			rs.SetRemote(t.Remote(peer), st)
		}
		for peer := range rs.States(t.Self) {
			if _, ok := p.States[peer]; !ok && peer != t.Self {
				rs.RemoveRemote(peer)
			}
		}
	}
	saveErr := c.saveShards(next)
	c.lay.Store(next)
	for _, ch := range changes {
		if ch.sh != nil {
			ch.sh.Start()
		}
	}
	var errs []error
	if saveErr != nil {
		errs = append(errs, fmt.Errorf("collection %s: save %s: %w", c.name, shardsFile, saveErr))
	}
	// Every local replica has the collection's payload indexes: the new
	// ones, and those a transfer filled before they become Active.
	c.indexLocals(next, schema)
	for _, id := range activated {
		// A replica filled by a transfer is complete once Active.
		if err := c.clearIncomplete(id); err != nil {
			errs = append(errs, err)
		}
	}
	for _, sh := range drops {
		if !old.topo && !old.pending && shardLen(sh) > 0 {
			// The first topology of a collection that held points before
			// consensus placed its shards (a cluster collection of a
			// Shoal before distributed collections kept every point on
			// the peer that received it): those points are set aside,
			// not deleted.
			if err := c.setAside(sh); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := sh.Drop(); err != nil {
			errs = append(errs, fmt.Errorf("collection %s: drop a local replica: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}

func shardLen(sh *shard.Shard) int {
	n := 0
	sh.View(func(r *shard.Reader) { n = r.Len() })
	return n
}

// setAside closes a local replica and moves its directory to
// shards/<id>.unplaced-<unix time>, with a warning naming it.
func (c *Collection) setAside(sh *shard.Shard) error {
	n := shardLen(sh)
	if err := sh.Close(); err != nil {
		return fmt.Errorf("collection %s: close a replica set aside: %w", c.name, err)
	}
	to := fmt.Sprintf("%s.unplaced-%d", sh.Dir(), time.Now().Unix())
	if err := vfs.OrDefault(c.fsys).Rename(sh.Dir(), to); err != nil {
		return fmt.Errorf("collection %s: set aside %s: %w", c.name, sh.Dir(), err)
	}
	c.log.Warn("a shard this peer held points of is placed elsewhere by the cluster: its data is kept aside, not served", "collection", c.name, "points", n, "dir", to)
	return nil
}

// errClusterKeys refuses CreateShardKey and DropShardKey on a collection
// given a topology: its keys change through consensus (SetTopology).
var errClusterKeys = errors.New("the shard keys of a collection in a cluster change through consensus")

// ShardKeys lists the shard keys, sorted.
func (c *Collection) ShardKeys() []ShardKey {
	l := c.layout()
	out := make([]ShardKey, 0, len(l.keys))
	for k := range l.keys {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// CreateShardKey adds the shards of a new key to a standalone collection
// with custom sharding: shards local and Active (shards <= 0: the
// collection's shard_number), ids after the highest (the first key's
// start at 1), Qdrant's error texts.
func (c *Collection) CreateShardKey(key ShardKey, shards int) error {
	c.topoMu.Lock()
	defer c.topoMu.Unlock()
	cfg, err := c.Config()
	if err != nil {
		return err
	}
	old := c.layout()
	if !isCustom(cfg) {
		return point.Errorf(point.KindBadRequest, "Shard Key %s cannot be created with Auto sharding method", key)
	}
	if old.topo || old.pending {
		return errClusterKeys
	}
	if _, err := ParseShardKey([]byte(key)); err != nil {
		return err
	}
	if _, ok := old.keys[key]; ok {
		return point.Errorf(point.KindBadRequest, "Shard key %s already exists", key)
	}
	if shards <= 0 {
		shards = shardCount(cfg)
	}
	if len(old.sets)+shards > MaxShardNumber {
		return point.Errorf(point.KindBadInput, "shards_number %d would take the collection above the limit of %d shards", shards, MaxShardNumber)
	}
	first := ShardID(1)
	if n := len(old.sets); n > 0 {
		first = old.sets[n-1].id + 1
	}
	sets := slices.Clone(old.sets)
	var added []*shard.Shard
	for i := range shards {
		id := first + ShardID(i)
		sh, err := c.newLocalShard(id)
		if err != nil {
			for _, s := range added {
				s.Drop()
			}
			return fmt.Errorf("collection %s: create shard %d of key %s: %w", c.name, id, key, err)
		}
		added = append(added, sh)
		sets = append(sets, newReplicaSet(id, sh))
	}
	keyOf := map[ShardID]ShardKey{}
	for k, ids := range old.keys {
		for _, id := range ids {
			keyOf[id] = k
		}
	}
	for i := range shards {
		keyOf[first+ShardID(i)] = key
	}
	next := newLayout(sets, true, keyOf)
	next.self, next.wcf, next.reporter, next.barrier = old.self, old.wcf, old.reporter, old.barrier
	if err := c.saveShards(next); err != nil {
		for _, s := range added {
			s.Drop()
		}
		return fmt.Errorf("collection %s: save %s: %w", c.name, shardsFile, err)
	}
	c.lay.Store(next)
	for _, s := range added {
		s.Start()
	}
	// The new shards get the payload indexes the others have (Qdrant's
	// create_shard_key applies the collection's payload schema to them).
	if err := copyIndexes(old.sets, added); err != nil {
		return fmt.Errorf("collection %s: index the shards of key %s: %w", c.name, key, err)
	}
	return nil
}

// copyIndexes creates on every shard of to the payload indexes of the
// first local shard of from.
func copyIndexes(from []*ReplicaSet, to []*shard.Shard) error {
	var idx map[string]segment.IndexInfo
	for _, rs := range from {
		if l, _ := rs.Local(); l != nil {
			l.View(func(r *shard.Reader) { idx = r.Indexes() })
			break
		}
	}
	for _, k := range slices.Sorted(maps.Keys(idx)) {
		raw, err := json.Marshal(idx[k].Schema)
		if err != nil {
			return err
		}
		var fs ops.FieldSchema
		if err := json.Unmarshal(raw, &fs); err != nil {
			return fmt.Errorf("schema of %s: %w", k, err)
		}
		for _, sh := range to {
			if _, err := sh.Update(context.Background(), &ops.Operation{Kind: ops.CreateIndex, Key: k, Schema: &fs}, true); err != nil {
				return fmt.Errorf("index %s: %w", k, err)
			}
		}
	}
	return nil
}

// DropShardKey drops a standalone collection's shard key with its shards.
func (c *Collection) DropShardKey(key ShardKey) error {
	c.topoMu.Lock()
	defer c.topoMu.Unlock()
	cfg, err := c.Config()
	if err != nil {
		return err
	}
	old := c.layout()
	if !isCustom(cfg) {
		return point.Errorf(point.KindBadRequest, "Shard Key %s cannot be removed with Auto sharding method", key)
	}
	if old.topo || old.pending {
		return errClusterKeys
	}
	ids, ok := old.keys[key]
	if !ok {
		return point.Errorf(point.KindBadRequest, "Shard key %s does not exist", key)
	}
	var sets []*ReplicaSet
	var drops []*shard.Shard
	keyOf := map[ShardID]ShardKey{}
	for _, rs := range old.sets {
		if slices.Contains(ids, rs.id) {
			if sh, _ := rs.Local(); sh != nil {
				drops = append(drops, sh)
			}
			continue
		}
		sets = append(sets, rs)
		if k := old.keyOf(rs.id); k != "" {
			keyOf[rs.id] = k
		}
	}
	next := newLayout(sets, true, keyOf)
	next.self, next.wcf, next.reporter, next.barrier = old.self, old.wcf, old.reporter, old.barrier
	if err := c.saveShards(next); err != nil {
		return fmt.Errorf("collection %s: save %s: %w", c.name, shardsFile, err)
	}
	c.lay.Store(next)
	var errs []error
	for _, sh := range drops {
		errs = append(errs, sh.Drop())
	}
	return errors.Join(errs...)
}

// ShardInfo is one replica of one shard, for GET /collections/{c}/cluster.
type ShardInfo struct {
	ID          ShardID
	Key         ShardKey // "" with auto sharding
	Peer        uint64
	Local       bool
	State       ReplicaState
	PointsCount int // local replicas only
}

// ShardInfos lists every replica of every shard, by shard id then peer.
// Before a topology is set the local replicas are under peer 0.
func (c *Collection) ShardInfos() []ShardInfo {
	l := c.layout()
	var out []ShardInfo
	for _, rs := range l.sets {
		states := rs.States(l.self)
		peers := make([]uint64, 0, len(states))
		for p := range states {
			peers = append(peers, p)
		}
		slices.Sort(peers)
		local, _ := rs.Local()
		for _, p := range peers {
			info := ShardInfo{ID: rs.id, Key: l.keyOf(rs.id), Peer: p, State: states[p]}
			if p == l.self && local != nil {
				info.Local = true
				local.View(func(r *shard.Reader) { info.PointsCount = r.Len() })
			}
			out = append(out, info)
		}
	}
	slices.SortStableFunc(out, func(a, b ShardInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
