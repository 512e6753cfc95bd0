package cluster

import (
	"encoding/json"
	"fmt"
	"slices"
)

// PeerID identifies a peer of the cluster; zero is never a valid id.
type PeerID uint64

// ShardID identifies a shard within a collection: 0..shard_number-1.
type ShardID uint32

// ReplicaState is the state of one replica of a shard, Qdrant's
// ReplicaState. Its text form is Qdrant's name ("Active", "Dead", ...).
type ReplicaState uint8

// The replica states. The zero value is invalid, so that a forgotten state
// is caught by validation rather than read as a real one.
const (
	// ReplicaActive serves reads and accepts updates.
	ReplicaActive ReplicaState = iota + 1
	// ReplicaDead failed or was deactivated; it takes nothing until recovered.
	ReplicaDead
	// ReplicaPartial is the target of a streaming transfer: it takes updates
	// but serves no reads.
	ReplicaPartial
	// ReplicaInitializing was just created and waits for activation.
	ReplicaInitializing
	// ReplicaListener takes updates asynchronously and serves no reads.
	ReplicaListener
	// ReplicaPartialSnapshot is a source being snapshotted for a transfer.
	ReplicaPartialSnapshot
	// ReplicaRecovery is the target of a snapshot or WAL-delta transfer.
	ReplicaRecovery
	// ReplicaResharding is a new shard being filled during scale-up.
	ReplicaResharding
	// ReplicaReshardingScaleDown is a shard being drained during scale-down.
	ReplicaReshardingScaleDown
	// ReplicaActiveRead serves reads but takes no updates (resharding).
	ReplicaActiveRead
	// ReplicaManualRecovery waits for an operator's snapshot recovery.
	ReplicaManualRecovery
)

var replicaStateNames = [...]string{
	ReplicaActive:              "Active",
	ReplicaDead:                "Dead",
	ReplicaPartial:             "Partial",
	ReplicaInitializing:        "Initializing",
	ReplicaListener:            "Listener",
	ReplicaPartialSnapshot:     "PartialSnapshot",
	ReplicaRecovery:            "Recovery",
	ReplicaResharding:          "Resharding",
	ReplicaReshardingScaleDown: "ReshardingScaleDown",
	ReplicaActiveRead:          "ActiveRead",
	ReplicaManualRecovery:      "ManualRecovery",
}

// Valid reports whether s is one of the defined states.
func (s ReplicaState) Valid() bool {
	return s > 0 && int(s) < len(replicaStateNames)
}

// String returns Qdrant's name of the state.
func (s ReplicaState) String() string {
	if !s.Valid() {
		return fmt.Sprintf("ReplicaState(%d)", uint8(s))
	}
	return replicaStateNames[s]
}

// MarshalText encodes the state as its name; an invalid state is an error.
func (s ReplicaState) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("marshal replica state %d: %w", uint8(s), ErrMalformed)
	}
	return []byte(replicaStateNames[s]), nil
}

// UnmarshalText parses a state name.
func (s *ReplicaState) UnmarshalText(b []byte) error {
	v, err := ParseReplicaState(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseReplicaState parses Qdrant's name of a replica state.
func ParseReplicaState(name string) (ReplicaState, error) {
	for i, n := range replicaStateNames {
		if i > 0 && n == name {
			return ReplicaState(i), nil
		}
	}
	return 0, fmt.Errorf("unknown replica state %q: %w", name, ErrMalformed)
}

// TransferMethod is how a shard transfer moves data, Qdrant's
// ShardTransferMethod in its snake_case wire form.
type TransferMethod string

// The transfer methods.
const (
	// TransferStreamRecords streams the points in batches; the target is
	// Partial meanwhile.
	TransferStreamRecords TransferMethod = "stream_records"
	// TransferSnapshot ships a shard snapshot; the target is in Recovery.
	TransferSnapshot TransferMethod = "snapshot"
	// TransferWALDelta ships the WAL entries the target misses; the target
	// is in Recovery.
	TransferWALDelta TransferMethod = "wal_delta"
)

// Valid reports whether m is a known method.
func (m TransferMethod) Valid() bool {
	switch m {
	case TransferStreamRecords, TransferSnapshot, TransferWALDelta:
		return true
	}
	return false
}

// targetState is the state the target replica takes while the transfer runs.
func (m TransferMethod) targetState() ReplicaState {
	if m == TransferStreamRecords {
		return ReplicaPartial
	}
	return ReplicaRecovery
}

// Transfer is a shard transfer in flight. Sync (replicate) keeps the source
// replica when the transfer finishes; without it (move) the source is
// dropped.
type Transfer struct {
	Shard  ShardID        `json:"shard_id"`
	From   PeerID         `json:"from"`
	To     PeerID         `json:"to"`
	Sync   bool           `json:"sync"`
	Method TransferMethod `json:"method"`
}

// TransferKey names a transfer: Qdrant's ShardTransferKey.
type TransferKey struct {
	Shard ShardID `json:"shard_id"`
	From  PeerID  `json:"from"`
	To    PeerID  `json:"to"`
}

// Key returns the transfer's key.
func (t Transfer) Key() TransferKey { return TransferKey{Shard: t.Shard, From: t.From, To: t.To} }

// involves reports whether the transfer moves shard s to or from peer p.
func (t Transfer) involves(s ShardID, p PeerID) bool {
	return t.Shard == s && (t.From == p || t.To == p)
}

// Replicas maps each peer holding a replica of a shard to its state.
type Replicas map[PeerID]ReplicaState

// Peers returns the peers holding a replica, sorted.
func (r Replicas) Peers() []PeerID {
	out := make([]PeerID, 0, len(r))
	for p := range r {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Collection is the consensus view of one collection.
type Collection struct {
	// Config is the engine's collection config, opaque here.
	Config                 json.RawMessage      `json:"config,omitempty"`
	ShardNumber            uint32               `json:"shard_number"`
	ReplicationFactor      uint32               `json:"replication_factor"`
	WriteConsistencyFactor uint32               `json:"write_consistency_factor"`
	Shards                 map[ShardID]Replicas `json:"shards"`
	// ShardingMethod is empty (auto) or custom; a custom collection has
	// no shards until shard keys are created (ShardKeys, kept sorted by
	// key), and ShardNumber is then the default number of shards per key.
	ShardingMethod ShardingMethod `json:"sharding_method,omitempty"`
	ShardKeys      []KeyShards    `json:"shard_keys,omitempty"`
	// Transfers are kept sorted by (shard, from, to).
	Transfers []Transfer `json:"transfers,omitempty"`
	// PayloadSchema is the collection's payload indexes, field name ->
	// field_schema (compact JSON, opaque here): Qdrant's
	// payload_index_schema. Nil when there is none.
	PayloadSchema map[string]json.RawMessage `json:"payload_schema,omitempty"`
}

// clone returns a deep copy.
func (c *Collection) clone() *Collection {
	out := *c
	out.Config = slices.Clone(c.Config)
	out.Shards = make(map[ShardID]Replicas, len(c.Shards))
	for s, r := range c.Shards {
		rc := make(Replicas, len(r))
		for p, st := range r {
			rc[p] = st
		}
		out.Shards[s] = rc
	}
	out.Transfers = slices.Clone(c.Transfers)
	out.PayloadSchema = nil
	for k, v := range c.PayloadSchema {
		if out.PayloadSchema == nil {
			out.PayloadSchema = make(map[string]json.RawMessage, len(c.PayloadSchema))
		}
		out.PayloadSchema[k] = slices.Clone(v)
	}
	out.ShardKeys = nil
	for _, ks := range c.ShardKeys {
		out.ShardKeys = append(out.ShardKeys, KeyShards{Key: ks.Key, Shards: slices.Clone(ks.Shards)})
	}
	return &out
}

// transfer returns the index of the transfer with key k, or -1.
func (c *Collection) transfer(k TransferKey) int {
	for i, t := range c.Transfers {
		if t.Key() == k {
			return i
		}
	}
	return -1
}

func (c *Collection) addTransfer(t Transfer) {
	c.Transfers = append(c.Transfers, t)
	slices.SortFunc(c.Transfers, func(a, b Transfer) int {
		if a.Shard != b.Shard {
			return cmpInt(a.Shard, b.Shard)
		}
		if a.From != b.From {
			return cmpInt(a.From, b.From)
		}
		return cmpInt(a.To, b.To)
	})
}

func cmpInt[T ~uint32 | ~uint64 | ~int](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
