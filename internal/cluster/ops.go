package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/shoaldb/shoal/internal/quota"
)

// Op is one metadata operation, a member of a closed tagged union: AddPeer,
// RemovePeer, UpdatePeerURI, CreateCollection, UpdateCollection,
// DeleteCollection, ChangeAliases, SetReplicaState, RemoveReplica,
// StartTransfer, FinishTransfer, AbortTransfer, SetMetadataKey,
// DeleteMetadataKey, SetPeerMetadata, SetQuota, CreateShardKey,
// DropShardKey, CreatePayloadIndex and DropPayloadIndex. Ops are passed by value.
type Op interface {
	// opName is the op's tag in the encoding.
	opName() string
}

// AddPeer registers a peer and its P2P URI (a raft ConfChange context in
// Qdrant). Adding a known peer with the same URI changes nothing.
type AddPeer struct {
	ID  PeerID `json:"peer_id"`
	URI string `json:"uri"`
}

// RemovePeer forgets a peer. A peer that still holds replicas is only
// removed with Force, which drops its replicas and aborts its transfers.
type RemovePeer struct {
	ID    PeerID `json:"peer_id"`
	Force bool   `json:"force,omitempty"`
}

// UpdatePeerURI records a peer's new P2P URI (a restarted peer on a new
// address).
type UpdatePeerURI struct {
	ID  PeerID `json:"peer_id"`
	URI string `json:"uri"`
}

// CreateCollection creates a collection. Without Placement its shard
// replicas are spread deterministically over the peers with the fewest
// replicas (see SuggestPlacement); all replicas start Initializing.
type CreateCollection struct {
	Name                   string          `json:"name"`
	Config                 json.RawMessage `json:"config,omitempty"`
	ShardNumber            uint32          `json:"shard_number"`
	ReplicationFactor      uint32          `json:"replication_factor"`
	WriteConsistencyFactor uint32          `json:"write_consistency_factor"`
	// Placement optionally fixes the peers of every shard (shard id ->
	// peers), as an init_from or a test may want.
	Placement map[ShardID][]PeerID `json:"placement,omitempty"`
	// ShardingMethod custom creates no shards: they come with shard keys
	// (CreateShardKey), ShardNumber per key.
	ShardingMethod ShardingMethod `json:"sharding_method,omitempty"`
}

// UpdateCollection changes a collection's config and factors. Config
// replaces the engine config; ConfigPatch merges into it as an RFC 7396
// JSON merge patch (so that concurrent diffs compose); nil factors are kept.
type UpdateCollection struct {
	Name                   string          `json:"name"`
	Config                 json.RawMessage `json:"config,omitempty"`
	ConfigPatch            json.RawMessage `json:"config_patch,omitempty"`
	ReplicationFactor      *uint32         `json:"replication_factor,omitempty"`
	WriteConsistencyFactor *uint32         `json:"write_consistency_factor,omitempty"`
}

// DeleteCollection deletes a collection with its aliases and transfers;
// deleting a missing collection changes nothing.
type DeleteCollection struct {
	Name string `json:"name"`
}

// ChangeAliases applies alias actions as one atomic batch: all or none.
type ChangeAliases struct {
	Actions []AliasAction `json:"actions"`
}

// AliasAction is one alias change; exactly one field is set, as in
// Qdrant's AliasOperations.
type AliasAction struct {
	Create *CreateAlias `json:"create_alias,omitempty"`
	Delete *DeleteAlias `json:"delete_alias,omitempty"`
	Rename *RenameAlias `json:"rename_alias,omitempty"`
}

// CreateAlias points an alias at a collection (replacing its old target).
type CreateAlias struct {
	CollectionName string `json:"collection_name"`
	AliasName      string `json:"alias_name"`
}

// DeleteAlias removes an alias.
type DeleteAlias struct {
	AliasName string `json:"alias_name"`
}

// RenameAlias renames an alias, keeping its target.
type RenameAlias struct {
	OldAliasName string `json:"old_alias_name"`
	NewAliasName string `json:"new_alias_name"`
}

// SetReplicaState sets the state of a peer's replica of a shard, adding the
// replica if the peer has none. With FromState set, the op only applies when
// the replica is currently in that state (a compare-and-set).
type SetReplicaState struct {
	Collection string        `json:"collection_name"`
	Shard      ShardID       `json:"shard_id"`
	Peer       PeerID        `json:"peer_id"`
	State      ReplicaState  `json:"state"`
	FromState  *ReplicaState `json:"from_state,omitempty"`
}

// RemoveReplica drops a peer's replica of a shard (Qdrant's DropReplica).
type RemoveReplica struct {
	Collection string  `json:"collection_name"`
	Shard      ShardID `json:"shard_id"`
	Peer       PeerID  `json:"peer_id"`
}

// StartTransfer registers a shard transfer and puts the target replica into
// the method's receiving state (Partial or Recovery). An empty method is
// stream_records, Qdrant's default.
type StartTransfer struct {
	Collection string   `json:"collection_name"`
	Transfer   Transfer `json:"transfer"`
}

// FinishTransfer completes a transfer: the target becomes Active and, for a
// move, the source replica is dropped.
type FinishTransfer struct {
	Collection string      `json:"collection_name"`
	Key        TransferKey `json:"transfer"`
}

// AbortTransfer cancels a transfer: the target replica is dropped (move) or
// marked Dead (replicate).
type AbortTransfer struct {
	Collection string      `json:"collection_name"`
	Key        TransferKey `json:"transfer"`
}

// RestartTransfer restarts a transfer with another method (Qdrant's
// RestartTransfer): the target takes the method's receiving state and the
// source's driver starts again.
type RestartTransfer struct {
	Collection string         `json:"collection_name"`
	Key        TransferKey    `json:"transfer"`
	Method     TransferMethod `json:"method"`
}

// SetMetadataKey sets a cluster metadata key to a JSON value; null deletes
// the key, as in Qdrant.
type SetMetadataKey struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// DeleteMetadataKey deletes a cluster metadata key; a missing key changes
// nothing.
type DeleteMetadataKey struct {
	Key string `json:"key"`
}

// SetPeerMetadata records what a peer says about itself (Qdrant's
// UpdatePeerMetadata): the Qdrant version it speaks, shown as
// peer_metadata in telemetry. Only a known peer has metadata.
type SetPeerMetadata struct {
	ID      PeerID `json:"peer_id"`
	Version string `json:"version"`
}

// SetQuota replaces the cluster-wide resource quota (Qdrant's
// UpdateQuotaConfig, PUT /quotas).
type SetQuota struct {
	Config quota.Config `json:"config"`
}

// CreatePayloadIndex records a payload index in a collection's schema
// (Qdrant's CollectionMetaOperations::CreatePayloadIndex): every peer
// lists it and builds it on its local replicas, present and future.
// Schema is the field_schema as the REST API validated it, opaque here.
type CreatePayloadIndex struct {
	Collection string          `json:"collection_name"`
	Field      string          `json:"field_name"`
	Schema     json.RawMessage `json:"field_schema"`
}

// DropPayloadIndex removes a payload index from a collection's schema
// (Qdrant's DropPayloadIndex); dropping a missing one changes nothing.
type DropPayloadIndex struct {
	Collection string `json:"collection_name"`
	Field      string `json:"field_name"`
}

func (AddPeer) opName() string            { return "add_peer" }
func (RemovePeer) opName() string         { return "remove_peer" }
func (UpdatePeerURI) opName() string      { return "update_peer_uri" }
func (CreateCollection) opName() string   { return "create_collection" }
func (UpdateCollection) opName() string   { return "update_collection" }
func (DeleteCollection) opName() string   { return "delete_collection" }
func (ChangeAliases) opName() string      { return "change_aliases" }
func (SetReplicaState) opName() string    { return "set_replica_state" }
func (RemoveReplica) opName() string      { return "remove_replica" }
func (StartTransfer) opName() string      { return "start_transfer" }
func (FinishTransfer) opName() string     { return "finish_transfer" }
func (AbortTransfer) opName() string      { return "abort_transfer" }
func (RestartTransfer) opName() string    { return "restart_transfer" }
func (SetMetadataKey) opName() string     { return "set_metadata_key" }
func (DeleteMetadataKey) opName() string  { return "delete_metadata_key" }
func (SetPeerMetadata) opName() string    { return "set_peer_metadata" }
func (SetQuota) opName() string           { return "set_quota" }
func (CreatePayloadIndex) opName() string { return "create_payload_index" }
func (DropPayloadIndex) opName() string   { return "drop_payload_index" }

// OpName returns the op's tag, e.g. "create_collection", for logs and
// metrics.
func OpName(op Op) string { return op.opName() }

// encodingVersion is the "v" of every encoded op and snapshot. A decoder
// refuses other versions rather than guess.
const encodingVersion = 1

// envelope is the wire form of an Op: the version and exactly one tagged
// member, like serde's externally tagged enums.
type envelope struct {
	V                 int                `json:"v"`
	AddPeer           *AddPeer           `json:"add_peer,omitempty"`
	RemovePeer        *RemovePeer        `json:"remove_peer,omitempty"`
	UpdatePeerURI     *UpdatePeerURI     `json:"update_peer_uri,omitempty"`
	CreateCollection  *CreateCollection  `json:"create_collection,omitempty"`
	UpdateCollection  *UpdateCollection  `json:"update_collection,omitempty"`
	DeleteCollection  *DeleteCollection  `json:"delete_collection,omitempty"`
	ChangeAliases     *ChangeAliases     `json:"change_aliases,omitempty"`
	SetReplicaState   *SetReplicaState   `json:"set_replica_state,omitempty"`
	RemoveReplica     *RemoveReplica     `json:"remove_replica,omitempty"`
	StartTransfer     *StartTransfer     `json:"start_transfer,omitempty"`
	FinishTransfer    *FinishTransfer    `json:"finish_transfer,omitempty"`
	AbortTransfer     *AbortTransfer     `json:"abort_transfer,omitempty"`
	RestartTransfer   *RestartTransfer   `json:"restart_transfer,omitempty"`
	SetMetadataKey    *SetMetadataKey    `json:"set_metadata_key,omitempty"`
	DeleteMetadataKey *DeleteMetadataKey `json:"delete_metadata_key,omitempty"`
	SetPeerMetadata   *SetPeerMetadata   `json:"set_peer_metadata,omitempty"`
	SetQuota          *SetQuota          `json:"set_quota,omitempty"`
	CreateShardKey    *CreateShardKey    `json:"create_shard_key,omitempty"`
	DropShardKey      *DropShardKey      `json:"drop_shard_key,omitempty"`
	// Added without a version bump: older peers never wrote them.
	CreatePayloadIndex *CreatePayloadIndex `json:"create_payload_index,omitempty"`
	DropPayloadIndex   *DropPayloadIndex   `json:"drop_payload_index,omitempty"`
}

// Encode returns the deterministic wire form of op: the same op always
// encodes to the same bytes.
func Encode(op Op) ([]byte, error) {
	env := envelope{V: encodingVersion}
	switch o := op.(type) {
	case AddPeer:
		env.AddPeer = &o
	case RemovePeer:
		env.RemovePeer = &o
	case UpdatePeerURI:
		env.UpdatePeerURI = &o
	case CreateCollection:
		env.CreateCollection = &o
	case UpdateCollection:
		env.UpdateCollection = &o
	case DeleteCollection:
		env.DeleteCollection = &o
	case ChangeAliases:
		env.ChangeAliases = &o
	case SetReplicaState:
		env.SetReplicaState = &o
	case RemoveReplica:
		env.RemoveReplica = &o
	case StartTransfer:
		env.StartTransfer = &o
	case FinishTransfer:
		env.FinishTransfer = &o
	case AbortTransfer:
		env.AbortTransfer = &o
	case RestartTransfer:
		env.RestartTransfer = &o
	case SetMetadataKey:
		env.SetMetadataKey = &o
	case DeleteMetadataKey:
		env.DeleteMetadataKey = &o
	case SetPeerMetadata:
		env.SetPeerMetadata = &o
	case SetQuota:
		env.SetQuota = &o
	case CreateShardKey:
		env.CreateShardKey = &o
	case DropShardKey:
		env.DropShardKey = &o
	case CreatePayloadIndex:
		env.CreatePayloadIndex = &o
	case DropPayloadIndex:
		env.DropPayloadIndex = &o
	default:
		return nil, fmt.Errorf("encode op %T: not a cluster op", op)
	}
	b, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", op.opName(), err)
	}
	return b, nil
}

// Decode parses the wire form of an op. Unknown versions, unknown fields,
// trailing data and envelopes without exactly one op are errors wrapping
// ErrMalformed; Decode never panics.
func Decode(data []byte) (Op, error) {
	var env envelope
	if err := decodeStrict(data, &env); err != nil {
		return nil, fmt.Errorf("decode op: %w", err)
	}
	if env.V != encodingVersion {
		return nil, fmt.Errorf("decode op: version %d, want %d: %w", env.V, encodingVersion, ErrMalformed)
	}
	var ops []Op
	add := func(present bool, op func() Op) {
		if present {
			ops = append(ops, op())
		}
	}
	add(env.AddPeer != nil, func() Op { return *env.AddPeer })
	add(env.RemovePeer != nil, func() Op { return *env.RemovePeer })
	add(env.UpdatePeerURI != nil, func() Op { return *env.UpdatePeerURI })
	add(env.CreateCollection != nil, func() Op { return *env.CreateCollection })
	add(env.UpdateCollection != nil, func() Op { return *env.UpdateCollection })
	add(env.DeleteCollection != nil, func() Op { return *env.DeleteCollection })
	add(env.ChangeAliases != nil, func() Op { return *env.ChangeAliases })
	add(env.SetReplicaState != nil, func() Op { return *env.SetReplicaState })
	add(env.RemoveReplica != nil, func() Op { return *env.RemoveReplica })
	add(env.StartTransfer != nil, func() Op { return *env.StartTransfer })
	add(env.FinishTransfer != nil, func() Op { return *env.FinishTransfer })
	add(env.AbortTransfer != nil, func() Op { return *env.AbortTransfer })
	add(env.RestartTransfer != nil, func() Op { return *env.RestartTransfer })
	add(env.SetMetadataKey != nil, func() Op { return *env.SetMetadataKey })
	add(env.DeleteMetadataKey != nil, func() Op { return *env.DeleteMetadataKey })
	add(env.SetPeerMetadata != nil, func() Op { return *env.SetPeerMetadata })
	add(env.SetQuota != nil, func() Op { return *env.SetQuota })
	add(env.CreateShardKey != nil, func() Op { return *env.CreateShardKey })
	add(env.DropShardKey != nil, func() Op { return *env.DropShardKey })
	add(env.CreatePayloadIndex != nil, func() Op { return *env.CreatePayloadIndex })
	add(env.DropPayloadIndex != nil, func() Op { return *env.DropPayloadIndex })
	if len(ops) != 1 {
		return nil, fmt.Errorf("decode op: %d ops in one envelope, want 1: %w", len(ops), ErrMalformed)
	}
	// A replica state has no zero value on the wire: an op without one
	// could not be encoded again.
	if o, ok := ops[0].(SetReplicaState); ok && (!o.State.Valid() || o.FromState != nil && !o.FromState.Valid()) {
		return nil, fmt.Errorf("decode op: set_replica_state without a valid state: %w", ErrMalformed)
	}
	if o, ok := ops[0].(CreateShardKey); ok && (o.Key == "" || o.InitialState != nil && !o.InitialState.Valid()) {
		return nil, fmt.Errorf("decode op: create_shard_key without a key or with an invalid state: %w", ErrMalformed)
	}
	if o, ok := ops[0].(DropShardKey); ok && o.Key == "" {
		return nil, fmt.Errorf("decode op: drop_shard_key without a key: %w", ErrMalformed)
	}
	if o, ok := ops[0].(CreatePayloadIndex); ok && (o.Field == "" || !isJSONObjectOrString(o.Schema)) {
		return nil, fmt.Errorf("decode op: create_payload_index without a field name or a schema: %w", ErrMalformed)
	}
	if o, ok := ops[0].(DropPayloadIndex); ok && o.Field == "" {
		return nil, fmt.Errorf("decode op: drop_payload_index without a field name: %w", ErrMalformed)
	}
	if o, ok := ops[0].(CreateCollection); ok && o.ShardingMethod != "" && o.ShardingMethod != ShardingAuto && o.ShardingMethod != ShardingCustom {
		return nil, fmt.Errorf("decode op: unknown sharding method %q: %w", o.ShardingMethod, ErrMalformed)
	}
	return ops[0], nil
}

// decodeStrict unmarshals exactly one JSON value with no unknown fields and
// nothing after it.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("trailing data: %w", ErrMalformed)
	}
	return nil
}

// isJSONObjectOrString reports whether raw is a field_schema's shape: a
// type name ("keyword") or an object of parameters.
func isJSONObjectOrString(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && (raw[0] == '"' || raw[0] == '{') && json.Valid(raw)
}
