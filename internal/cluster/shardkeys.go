package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// ShardingMethod is Qdrant's sharding_method: auto (points spread over
// shard_number shards by a hash of their id) or custom (shards are created
// per user-defined shard key).
type ShardingMethod string

// The sharding methods; the empty value reads as auto.
const (
	ShardingAuto   ShardingMethod = "auto"
	ShardingCustom ShardingMethod = "custom"
)

// Custom reports whether shards are created per shard key.
func (m ShardingMethod) Custom() bool { return m == ShardingCustom }

// ShardKey is a user-defined shard key: a string or an unsigned integer,
// held as its canonical JSON text ("\"eu\"" or "12"), which is also its
// identity: the string "12" and the number 12 are different keys, as in
// Qdrant.
type ShardKey string

// ParseShardKey validates a shard key's JSON: a string or an integer in
// uint64.
func ParseShardKey(raw json.RawMessage) (ShardKey, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", badInput("Shard key is empty")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", badInput("Shard key is not a valid string: %v", err)
		}
		b, _ := json.Marshal(s)
		return ShardKey(b), nil
	}
	n, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return "", badInput("Shard key must be a string or an unsigned integer, got %s", raw)
	}
	return ShardKey(strconv.FormatUint(n, 10)), nil
}

// String is the key as Qdrant prints it in messages: a string without
// quotes, a number as digits.
func (k ShardKey) String() string {
	var s string
	if json.Unmarshal([]byte(k), &s) == nil {
		return s
	}
	return string(k)
}

// MarshalJSON writes the key's JSON (a string or a number).
func (k ShardKey) MarshalJSON() ([]byte, error) {
	if k == "" {
		return []byte("null"), nil
	}
	return []byte(k), nil
}

// UnmarshalJSON parses a key's JSON.
func (k *ShardKey) UnmarshalJSON(b []byte) error {
	v, err := ParseShardKey(b)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	*k = v
	return nil
}

// KeyShards are the shards of one shard key.
type KeyShards struct {
	Key    ShardKey  `json:"key"`
	Shards []ShardID `json:"shards"`
}

// CreateShardKey creates the shards of a new shard key in a collection
// with custom sharding (Qdrant's CreateShardKey): ShardNumber shards of
// ReplicationFactor replicas each (zero: the collection's), placed on
// Peers when given (else over all peers, fewest replicas first). The new
// shards take the ids after the highest one the collection has. Their
// replicas start in InitialState, Initializing when unset: as after
// CreateCollection, each peer activates its replicas once it has created
// them.
type CreateShardKey struct {
	Collection        string        `json:"collection_name"`
	Key               ShardKey      `json:"shard_key"`
	ShardNumber       uint32        `json:"shards_number,omitempty"`
	ReplicationFactor uint32        `json:"replication_factor,omitempty"`
	Peers             []PeerID      `json:"placement,omitempty"`
	InitialState      *ReplicaState `json:"initial_state,omitempty"`
}

// DropShardKey removes a shard key and all its shards (Qdrant's
// DropShardKey) with their transfers.
type DropShardKey struct {
	Collection string   `json:"collection_name"`
	Key        ShardKey `json:"shard_key"`
}

func (CreateShardKey) opName() string { return "create_shard_key" }
func (DropShardKey) opName() string   { return "drop_shard_key" }

// KeyOf returns the shard key a shard belongs to, if any.
func (c *Collection) KeyOf(s ShardID) (ShardKey, bool) {
	for _, ks := range c.ShardKeys {
		if slices.Contains(ks.Shards, s) {
			return ks.Key, true
		}
	}
	return "", false
}

// ShardsOf returns the shards of a key.
func (c *Collection) ShardsOf(k ShardKey) ([]ShardID, bool) {
	for _, ks := range c.ShardKeys {
		if ks.Key == k {
			return slices.Clone(ks.Shards), true
		}
	}
	return nil, false
}

// maxShardID is the highest shard id, 0 without shards (so a custom
// collection's first key gets shard 1, as in Qdrant).
func (c *Collection) maxShardID() ShardID {
	var m ShardID
	for s := range c.Shards {
		m = max(m, s)
	}
	return m
}

func (s *State) createShardKey(op CreateShardKey) (bool, error) {
	c, ok := s.collections[op.Collection]
	if !ok {
		return false, collectionNotFound(op.Collection)
	}
	if !c.ShardingMethod.Custom() {
		return false, badRequest("Shard Key %s cannot be created with Auto sharding method", op.Key)
	}
	if _, err := ParseShardKey(json.RawMessage(op.Key)); err != nil {
		return false, err
	}
	if _, ok := c.ShardsOf(op.Key); ok {
		return false, badRequest("Shard key %s already exists", op.Key)
	}
	n, rf := op.ShardNumber, op.ReplicationFactor
	if n == 0 {
		n = c.ShardNumber
	}
	if rf == 0 {
		rf = c.ReplicationFactor
	}
	if n == 0 || rf == 0 {
		return false, badInput("shards_number and replication_factor must be positive")
	}
	if uint64(len(c.Shards))+uint64(n) > MaxShardNumber {
		return false, badInput("shards_number %d would take the collection above the limit of %d shards", n, MaxShardNumber)
	}
	state := ReplicaInitializing
	if op.InitialState != nil {
		if !op.InitialState.Valid() {
			return false, badInput("Invalid replica state %d", uint8(*op.InitialState))
		}
		state = *op.InitialState
	}
	peers := op.Peers
	if len(peers) == 0 {
		peers = s.PeerIDs()
	}
	var unknown []PeerID
	for _, p := range peers {
		if _, ok := s.peers[p]; !ok {
			unknown = append(unknown, p)
		}
	}
	if len(unknown) > 0 {
		return false, badRequest("Shard Key %s placement contains unknown peers: %v", op.Key, unknown)
	}
	placement := SuggestPlacement(n, rf, peers, s.PeerLoad(), op.Collection+"/"+string(op.Key))
	first := c.maxShardID() + 1
	if len(c.Shards) == 0 {
		first = 1
	}
	ks := KeyShards{Key: op.Key}
	for i := range n {
		id := first + ShardID(i)
		r := Replicas{}
		for _, p := range placement[ShardID(i)] {
			r[p] = state
		}
		if c.Shards == nil {
			c.Shards = map[ShardID]Replicas{}
		}
		c.Shards[id] = r
		ks.Shards = append(ks.Shards, id)
	}
	c.ShardKeys = append(c.ShardKeys, ks)
	slices.SortFunc(c.ShardKeys, func(a, b KeyShards) int { return cmpString(string(a.Key), string(b.Key)) })
	return true, nil
}

func (s *State) dropShardKey(op DropShardKey) (bool, error) {
	c, ok := s.collections[op.Collection]
	if !ok {
		return false, collectionNotFound(op.Collection)
	}
	if !c.ShardingMethod.Custom() {
		return false, badRequest("Shard Key %s cannot be removed with Auto sharding method", op.Key)
	}
	i := slices.IndexFunc(c.ShardKeys, func(ks KeyShards) bool { return ks.Key == op.Key })
	if i < 0 {
		return false, badRequest("Shard key %s does not exist", op.Key)
	}
	for _, id := range c.ShardKeys[i].Shards {
		delete(c.Shards, id)
		c.Transfers = slices.DeleteFunc(c.Transfers, func(t Transfer) bool { return t.Shard == id })
	}
	c.ShardKeys = slices.Delete(c.ShardKeys, i, i+1)
	if len(c.ShardKeys) == 0 {
		c.ShardKeys = nil
	}
	if len(c.Transfers) == 0 {
		c.Transfers = nil
	}
	return true, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
