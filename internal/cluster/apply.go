package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Apply applies op to the state. It is deterministic and pure apart from
// mutating s: the same state and op give the same result on every peer. On
// error the state is unchanged; the error carries a point.Kind and Qdrant's
// description.
func (s *State) Apply(op Op) (Result, error) {
	var (
		changed bool
		err     error
	)
	switch o := op.(type) {
	case AddPeer:
		changed, err = s.addPeer(o)
	case RemovePeer:
		changed, err = s.removePeer(o)
	case UpdatePeerURI:
		changed, err = s.updatePeerURI(o)
	case CreateCollection:
		changed, err = s.createCollection(o)
	case UpdateCollection:
		changed, err = s.updateCollection(o)
	case DeleteCollection:
		changed = s.deleteCollection(o.Name)
	case ChangeAliases:
		changed, err = s.changeAliases(o)
	case SetReplicaState:
		changed, err = s.setReplicaState(o)
	case RemoveReplica:
		changed, err = s.removeReplica(o)
	case StartTransfer:
		changed, err = s.startTransfer(o)
	case FinishTransfer:
		changed, err = s.finishTransfer(o)
	case AbortTransfer:
		changed, err = s.abortTransfer(o)
	case RestartTransfer:
		changed, err = s.restartTransfer(o)
	case SetMetadataKey:
		changed, err = s.setMetadataKey(o)
	case DeleteMetadataKey:
		_, changed = s.metadata[o.Key]
		delete(s.metadata, o.Key)
	case SetPeerMetadata:
		changed, err = s.setPeerMetadata(o)
	case SetQuota:
		changed, err = s.setQuota(o)
	case CreateShardKey:
		changed, err = s.createShardKey(o)
	case DropShardKey:
		changed, err = s.dropShardKey(o)
	case CreatePayloadIndex:
		changed, err = s.createPayloadIndex(o)
	case DropPayloadIndex:
		changed, err = s.dropPayloadIndex(o)
	default:
		return Result{}, badRequest("unknown cluster operation %T", op)
	}
	if err != nil {
		return Result{}, fmt.Errorf("apply %s: %w", op.opName(), err)
	}
	return Result{Changed: changed}, nil
}

func (s *State) addPeer(op AddPeer) (bool, error) {
	if op.ID == 0 {
		return false, badInput("Peer id must be positive")
	}
	if op.URI == "" {
		return false, badInput("Peer %d has an empty URI", op.ID)
	}
	if uri, ok := s.peers[op.ID]; ok {
		if uri == op.URI {
			return false, nil
		}
		return false, alreadyExists("Peer %d already exists with URI %s", op.ID, uri)
	}
	if other, ok := s.peerByURI(op.URI); ok {
		return false, alreadyExists("Peer with URI %s already exists as peer %d", op.URI, other)
	}
	s.peers[op.ID] = op.URI
	return true, nil
}

func (s *State) peerByURI(uri string) (PeerID, bool) {
	for _, p := range s.PeerIDs() {
		if s.peers[p] == uri {
			return p, true
		}
	}
	return 0, false
}

func (s *State) removePeer(op RemovePeer) (bool, error) {
	if _, ok := s.peers[op.ID]; !ok {
		return false, notFound("Peer %d does not exist", op.ID)
	}
	held := false
	for _, c := range s.collections {
		for _, r := range c.Shards {
			if _, ok := r[op.ID]; ok {
				held = true
			}
		}
	}
	if held && !op.Force {
		return false, badRequest("Cannot remove peer %d as there are shards on it", op.ID)
	}
	for _, name := range s.CollectionNames() {
		c := s.collections[name]
		for _, t := range slices.Clone(c.Transfers) {
			if t.From == op.ID || t.To == op.ID {
				c.abort(t.Key())
			}
		}
		for _, r := range c.Shards {
			delete(r, op.ID)
		}
	}
	delete(s.peers, op.ID)
	delete(s.peerMeta, op.ID)
	return true, nil
}

func (s *State) updatePeerURI(op UpdatePeerURI) (bool, error) {
	uri, ok := s.peers[op.ID]
	if !ok {
		return false, notFound("Peer %d does not exist", op.ID)
	}
	if op.URI == "" {
		return false, badInput("Peer %d has an empty URI", op.ID)
	}
	if uri == op.URI {
		return false, nil
	}
	if other, ok := s.peerByURI(op.URI); ok {
		return false, alreadyExists("Peer with URI %s already exists as peer %d", op.URI, other)
	}
	s.peers[op.ID] = op.URI
	return true, nil
}

// MaxShardNumber bounds the shards of a collection, so that one bad
// proposal cannot make every peer allocate without limit.
const MaxShardNumber = 65536

// invalidNameChars are the characters Qdrant refuses in collection names,
// which become directory names.
const invalidNameChars = "<>:\"/\\|?*\x00\x1f"

func validateName(kind, name string) error {
	if name == "" {
		return badInput("%s name must not be empty", kind)
	}
	if len(name) > 255 {
		return badInput("%s name `%s` is longer than 255 bytes", kind, name)
	}
	if strings.ContainsAny(name, invalidNameChars) {
		return badInput("%s name `%s` contains invalid characters like '/' or '\\0'", kind, name)
	}
	return nil
}

// validateNameFree checks that no collection and no alias is called name.
func (s *State) validateNameFree(name string) error {
	if _, ok := s.collections[name]; ok {
		return alreadyExists("Collection `%s` already exists!", name)
	}
	if _, ok := s.aliases[name]; ok {
		return alreadyExists("Alias `%s` already exists!", name)
	}
	return nil
}

func validateConfig(raw json.RawMessage) error {
	if raw != nil && !json.Valid(raw) {
		return badInput("Collection config is not valid JSON")
	}
	return nil
}

func (s *State) createCollection(op CreateCollection) (bool, error) {
	if err := validateName("Collection", op.Name); err != nil {
		return false, err
	}
	if err := s.validateNameFree(op.Name); err != nil {
		return false, err
	}
	if op.ShardNumber == 0 || op.ReplicationFactor == 0 || op.WriteConsistencyFactor == 0 {
		return false, badInput("shard_number, replication_factor and write_consistency_factor must be positive")
	}
	if op.ShardNumber > MaxShardNumber {
		return false, badInput("shard_number %d is above the limit of %d", op.ShardNumber, MaxShardNumber)
	}
	if err := validateConfig(op.Config); err != nil {
		return false, err
	}
	method := op.ShardingMethod
	if method == ShardingAuto {
		method = ""
	}
	shards := map[ShardID]Replicas{}
	switch method {
	case "":
		var err error
		if shards, err = s.placementFor(op); err != nil {
			return false, err
		}
	case ShardingCustom:
		if op.Placement != nil {
			return false, badInput("A collection with custom sharding takes no placement: its shards come with shard keys")
		}
	default:
		return false, badInput("Unknown sharding method %q", op.ShardingMethod)
	}
	s.collections[op.Name] = &Collection{
		Config:                 compactJSON(op.Config),
		ShardNumber:            op.ShardNumber,
		ReplicationFactor:      op.ReplicationFactor,
		WriteConsistencyFactor: op.WriteConsistencyFactor,
		Shards:                 shards,
		ShardingMethod:         method,
	}
	return true, nil
}

func (s *State) updateCollection(op UpdateCollection) (bool, error) {
	c, ok := s.collections[op.Name]
	if !ok {
		return false, collectionNotFound(op.Name)
	}
	if op.Config != nil && op.ConfigPatch != nil {
		return false, badInput("Set either config or config_patch, not both")
	}
	if err := validateConfig(op.Config); err != nil {
		return false, err
	}
	config := c.Config
	switch {
	case op.Config != nil:
		config = compactJSON(op.Config)
	case op.ConfigPatch != nil:
		patched, err := mergePatch(c.Config, op.ConfigPatch)
		if err != nil {
			return false, err
		}
		config = patched
	}
	rf, wcf := c.ReplicationFactor, c.WriteConsistencyFactor
	if op.ReplicationFactor != nil {
		rf = *op.ReplicationFactor
	}
	if op.WriteConsistencyFactor != nil {
		wcf = *op.WriteConsistencyFactor
	}
	if rf == 0 || wcf == 0 {
		return false, badInput("replication_factor and write_consistency_factor must be positive")
	}
	changed := !bytes.Equal(config, c.Config) || rf != c.ReplicationFactor || wcf != c.WriteConsistencyFactor
	c.Config, c.ReplicationFactor, c.WriteConsistencyFactor = config, rf, wcf
	return changed, nil
}

func (s *State) deleteCollection(name string) bool {
	if _, ok := s.collections[name]; !ok {
		return false
	}
	delete(s.collections, name)
	for a, target := range s.aliases {
		if target == name {
			delete(s.aliases, a)
		}
	}
	return true
}

// changeAliases applies the batch to a copy of the alias table and keeps
// it only if every action succeeds.
func (s *State) changeAliases(op ChangeAliases) (bool, error) {
	aliases := maps.Clone(s.aliases)
	for _, a := range op.Actions {
		if err := s.applyAlias(aliases, a); err != nil {
			return false, err // Qdrant's text, without the action's position
		}
	}
	changed := !maps.Equal(aliases, s.aliases)
	s.aliases = aliases
	return changed, nil
}

func (s *State) applyAlias(aliases map[string]string, a AliasAction) error {
	n := 0
	for _, set := range []bool{a.Create != nil, a.Delete != nil, a.Rename != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return badInput("An alias action must be exactly one of create_alias, delete_alias, rename_alias")
	}
	switch {
	case a.Create != nil:
		if _, ok := s.collections[a.Create.CollectionName]; !ok {
			return collectionNotFound(a.Create.CollectionName)
		}
		if err := validateName("Alias", a.Create.AliasName); err != nil {
			return err
		}
		if _, ok := s.collections[a.Create.AliasName]; ok {
			return alreadyExists("Collection `%s` already exists!", a.Create.AliasName)
		}
		aliases[a.Create.AliasName] = a.Create.CollectionName
	case a.Delete != nil:
		if _, ok := aliases[a.Delete.AliasName]; !ok {
			return notFound("Alias %s does not exists!", a.Delete.AliasName)
		}
		delete(aliases, a.Delete.AliasName)
	default:
		target, ok := aliases[a.Rename.OldAliasName]
		if !ok {
			return notFound("Alias %s does not exists!", a.Rename.OldAliasName)
		}
		if err := validateName("Alias", a.Rename.NewAliasName); err != nil {
			return err
		}
		if _, ok := s.collections[a.Rename.NewAliasName]; ok {
			return alreadyExists("Collection `%s` already exists!", a.Rename.NewAliasName)
		}
		delete(aliases, a.Rename.OldAliasName)
		aliases[a.Rename.NewAliasName] = target
	}
	return nil
}

func (s *State) setMetadataKey(op SetMetadataKey) (bool, error) {
	if op.Key == "" {
		return false, badInput("Metadata key must not be empty")
	}
	if op.Value == nil || !json.Valid(op.Value) {
		return false, badInput("Value of metadata key %s is not valid JSON", op.Key)
	}
	v := compactJSON(op.Value)
	old, ok := s.metadata[op.Key]
	if string(v) == "null" {
		// Qdrant stores no null: setting one deletes the key, and a key
		// that is not there reads as null.
		delete(s.metadata, op.Key)
		return ok, nil
	}
	s.metadata[op.Key] = v
	return !ok || !bytes.Equal(old, v), nil
}

func (s *State) setPeerMetadata(op SetPeerMetadata) (bool, error) {
	if _, ok := s.peers[op.ID]; !ok {
		return false, notFound("Peer %d does not exist", op.ID)
	}
	if op.Version == "" {
		return false, badInput("Peer %d metadata has no version", op.ID)
	}
	m := PeerMetadata{Version: op.Version}
	old, ok := s.peerMeta[op.ID]
	s.peerMeta[op.ID] = m
	return !ok || old != m, nil
}

func (s *State) setQuota(op SetQuota) (bool, error) {
	if err := op.Config.Validate(); err != nil {
		return false, badInput("%v", err)
	}
	if s.quota != nil && s.quota.Equal(op.Config) {
		return false, nil
	}
	c := cloneQuota(op.Config)
	s.quota = &c
	return true, nil
}

func (s *State) createPayloadIndex(op CreatePayloadIndex) (bool, error) {
	c, ok := s.collections[op.Collection]
	if !ok {
		return false, collectionNotFound(op.Collection)
	}
	if op.Field == "" {
		return false, badInput("Payload index field name must not be empty")
	}
	if !isJSONObjectOrString(op.Schema) {
		return false, badInput("Schema of payload index %s is not a type name or an object", op.Field)
	}
	v := compactJSON(op.Schema)
	if old, ok := c.PayloadSchema[op.Field]; ok && bytes.Equal(old, v) {
		return false, nil
	}
	if c.PayloadSchema == nil {
		c.PayloadSchema = map[string]json.RawMessage{}
	}
	c.PayloadSchema[op.Field] = v
	return true, nil
}

func (s *State) dropPayloadIndex(op DropPayloadIndex) (bool, error) {
	c, ok := s.collections[op.Collection]
	if !ok {
		return false, collectionNotFound(op.Collection)
	}
	if _, ok := c.PayloadSchema[op.Field]; !ok {
		return false, nil
	}
	delete(c.PayloadSchema, op.Field)
	if len(c.PayloadSchema) == 0 {
		c.PayloadSchema = nil
	}
	return true, nil
}
