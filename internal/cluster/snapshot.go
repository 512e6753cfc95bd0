package cluster

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/shoaldb/shoal/internal/quota"
)

// snapshotV1 is the wire form of a State. encoding/json writes map keys
// sorted, so the bytes are a function of the state alone.
type snapshotV1 struct {
	V           int                        `json:"v"`
	Peers       map[PeerID]string          `json:"peers"`
	Collections map[string]*Collection     `json:"collections"`
	Aliases     map[string]string          `json:"aliases"`
	Metadata    map[string]json.RawMessage `json:"metadata"`
	// Added without a version bump: absent in older snapshots, which
	// restore as before.
	PeerMetadata map[PeerID]PeerMetadata `json:"peer_metadata,omitempty"`
	Quota        *quota.Config           `json:"quota,omitempty"`
}

// Snapshot returns the whole state as deterministic bytes, for raft
// snapshots: equal states give equal bytes.
func (s *State) Snapshot() ([]byte, error) {
	b, err := json.Marshal(snapshotV1{
		V:            encodingVersion,
		Peers:        s.peers,
		Collections:  s.collections,
		Aliases:      s.aliases,
		Metadata:     s.metadata,
		PeerMetadata: s.peerMeta,
		Quota:        s.quota,
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot cluster state: %w", err)
	}
	return b, nil
}

// Restore rebuilds a State from Snapshot's bytes. Bytes that do not decode,
// or decode to a state that breaks an invariant (a replica on an unknown
// peer, an alias to a missing collection, ...), are an error wrapping
// ErrMalformed.
func Restore(data []byte) (*State, error) {
	var snap snapshotV1
	if err := decodeStrict(data, &snap); err != nil {
		return nil, fmt.Errorf("restore cluster state: %w", err)
	}
	if snap.V != encodingVersion {
		return nil, fmt.Errorf("restore cluster state: version %d, want %d: %w", snap.V, encodingVersion, ErrMalformed)
	}
	s := New()
	if snap.Peers != nil {
		s.peers = snap.Peers
	}
	if snap.Aliases != nil {
		s.aliases = snap.Aliases
	}
	for k, v := range snap.Metadata {
		s.metadata[k] = compactJSON(v)
	}
	if snap.PeerMetadata != nil {
		s.peerMeta = snap.PeerMetadata
	}
	s.quota = snap.Quota
	for name, c := range snap.Collections {
		if c == nil {
			return nil, fmt.Errorf("restore cluster state: collection %q is null: %w", name, ErrMalformed)
		}
		c.Config = compactJSON(c.Config)
		if len(c.PayloadSchema) == 0 {
			c.PayloadSchema = nil
		}
		for k, v := range c.PayloadSchema {
			c.PayloadSchema[k] = compactJSON(v)
		}
		if len(c.Transfers) == 0 {
			c.Transfers = nil
		}
		s.collections[name] = c
	}
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("restore cluster state: %w: %w", err, ErrMalformed)
	}
	return s, nil
}

// Check verifies the invariants every reachable state keeps; Apply never
// breaks them, and Restore refuses states that do.
func (s *State) Check() error {
	for p, uri := range s.peers {
		if p == 0 || uri == "" {
			return fmt.Errorf("peer %d with URI %q", p, uri)
		}
	}
	for a, target := range s.aliases {
		if _, ok := s.collections[target]; !ok {
			return fmt.Errorf("alias %q points at missing collection %q", a, target)
		}
		if _, ok := s.collections[a]; ok {
			return fmt.Errorf("alias %q shadows a collection", a)
		}
	}
	for k, v := range s.metadata {
		if k == "" || !json.Valid(v) {
			return fmt.Errorf("metadata key %q with invalid value", k)
		}
	}
	for p, m := range s.peerMeta {
		if _, ok := s.peers[p]; !ok || m.Version == "" {
			return fmt.Errorf("metadata of unknown peer %d, or without a version", p)
		}
	}
	if s.quota != nil {
		if err := s.quota.Validate(); err != nil {
			return fmt.Errorf("quota: %w", err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.collections)) {
		if err := s.checkCollection(s.collections[name]); err != nil {
			return fmt.Errorf("collection %q: %w", name, err)
		}
	}
	return nil
}

func (s *State) checkCollection(c *Collection) error {
	if c.ShardNumber == 0 || c.ReplicationFactor == 0 || c.WriteConsistencyFactor == 0 {
		return fmt.Errorf("zero shard number or factor")
	}
	if c.Config != nil && !json.Valid(c.Config) {
		return fmt.Errorf("config is not valid JSON")
	}
	if err := c.checkShardKeys(); err != nil {
		return err
	}
	for k, v := range c.PayloadSchema {
		if k == "" || !isJSONObjectOrString(v) {
			return fmt.Errorf("payload index %q with an invalid schema", k)
		}
	}
	for shard, r := range c.Shards {
		if r == nil {
			return fmt.Errorf("shard %d has a null replica set", shard)
		}
		for p, st := range r {
			if _, ok := s.peers[p]; !ok {
				return fmt.Errorf("shard %d has a replica on unknown peer %d", shard, p)
			}
			if !st.Valid() {
				return fmt.Errorf("shard %d replica %d has invalid state", shard, p)
			}
		}
	}
	for i, t := range c.Transfers {
		r, ok := c.Shards[t.Shard]
		switch {
		case !ok:
			return fmt.Errorf("transfer of missing shard %d", t.Shard)
		case t.From == t.To || !t.Method.Valid():
			return fmt.Errorf("transfer %+v is malformed", t)
		}
		if _, ok := r[t.To]; !ok {
			// The target's state may move on (Recovery -> Partial) while the
			// transfer runs, but its replica exists until the transfer ends.
			return fmt.Errorf("transfer %+v: target holds no replica", t)
		}
		if _, ok := s.peers[t.From]; !ok {
			return fmt.Errorf("transfer %+v from unknown peer", t)
		}
		for _, prev := range c.Transfers[:i] {
			if prev.Key() == t.Key() || prev.involves(t.Shard, t.From) || prev.involves(t.Shard, t.To) {
				return fmt.Errorf("transfers %+v and %+v conflict", prev, t)
			}
		}
		if i > 0 && !transferLess(c.Transfers[i-1], t) {
			return fmt.Errorf("transfers are not sorted")
		}
	}
	return nil
}

// checkShardKeys checks the shard ids: 0..ShardNumber-1 with auto
// sharding; with custom sharding, exactly the shards of the keys, each
// key's shards sorted, keys sorted and distinct.
func (c *Collection) checkShardKeys() error {
	switch c.ShardingMethod {
	case "":
		if len(c.ShardKeys) > 0 {
			return fmt.Errorf("shard keys without custom sharding")
		}
		if uint32(len(c.Shards)) != c.ShardNumber {
			return fmt.Errorf("%d shards, want %d", len(c.Shards), c.ShardNumber)
		}
		for shard := range c.Shards {
			if uint32(shard) >= c.ShardNumber {
				return fmt.Errorf("shard %d out of range", shard)
			}
		}
		return nil
	case ShardingCustom:
	default:
		return fmt.Errorf("unknown sharding method %q", c.ShardingMethod)
	}
	seen := map[ShardID]bool{}
	for i, ks := range c.ShardKeys {
		if _, err := ParseShardKey(json.RawMessage(ks.Key)); err != nil {
			return fmt.Errorf("shard key %q: %w", ks.Key, err)
		}
		if i > 0 && c.ShardKeys[i-1].Key >= ks.Key {
			return fmt.Errorf("shard keys are not sorted and distinct")
		}
		if len(ks.Shards) == 0 {
			return fmt.Errorf("shard key %s has no shards", ks.Key)
		}
		for _, id := range ks.Shards {
			if _, ok := c.Shards[id]; !ok || seen[id] {
				return fmt.Errorf("shard key %s names shard %d twice or a missing one", ks.Key, id)
			}
			seen[id] = true
		}
	}
	if len(seen) != len(c.Shards) {
		return fmt.Errorf("%d shards, but the shard keys name %d", len(c.Shards), len(seen))
	}
	return nil
}

func transferLess(a, b Transfer) bool {
	if a.Shard != b.Shard {
		return a.Shard < b.Shard
	}
	if a.From != b.From {
		return a.From < b.From
	}
	return a.To < b.To
}
