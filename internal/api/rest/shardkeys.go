package rest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/node"
)

// Shard keys (custom sharding) and a collection's cluster info:
// PUT /collections/{name}/shards (CreateShardingKey), GET
// /collections/{name}/shards (ShardKeysResponse), POST
// /collections/{name}/shards/delete (DropShardingKey), GET
// /collections/{name}/cluster (CollectionClusterInfo).

type createShardKeyIn struct {
	ShardKey          json.RawMessage `json:"shard_key"`
	ShardsNumber      *uint64         `json:"shards_number"`
	ReplicationFactor *uint64         `json:"replication_factor"`
	Placement         *[]uint64       `json:"placement"`
	InitialState      *string         `json:"initial_state"`
}

// nonZero32 reads an Option<NonZeroU32> field, with serde's words for 0
// and for a value beyond u32.
func nonZero32(field string, v *uint64) (*uint32, error) {
	switch {
	case v == nil:
		return nil, nil
	case *v == 0:
		return nil, formatError(fmt.Errorf("%s: invalid value: integer `0`, expected a nonzero u32", field))
	case *v > math.MaxUint32:
		return nil, formatError(fmt.Errorf("%s: invalid value: integer `%d`, expected u32", field, *v))
	}
	n := uint32(*v)
	return &n, nil
}

// shardKeyField parses a body's required shard_key (one key).
func shardKeyField(raw json.RawMessage) (collection.ShardKey, error) {
	if !isSet(raw) {
		return "", formatError(errorString("missing field `shard_key`"))
	}
	k, err := collection.ParseShardKey(raw)
	if err != nil {
		return "", formatError(errorString("shard_key: data did not match any variant of untagged enum ShardKey"))
	}
	return k, nil
}

// replicaStateNames are Qdrant's ReplicaState variants, in order.
var replicaStateNames = func() []string {
	var out []string
	for s := collection.ReplicaActive; s <= collection.ReplicaManualRecovery; s++ {
		out = append(out, s.String())
	}
	return out
}()

func parseReplicaState(field, name string) (collection.ReplicaState, error) {
	for i, n := range replicaStateNames {
		if n == name {
			return collection.ReplicaActive + collection.ReplicaState(i), nil
		}
	}
	return 0, formatError(fmt.Errorf("%s: unknown variant `%s`, expected one of `%s`", field, name, strings.Join(replicaStateNames, "`, `")))
}

func (in *createShardKeyIn) request() (node.CreateShardKeyRequest, error) {
	var req node.CreateShardKeyRequest
	var err error
	if req.Key, err = shardKeyField(in.ShardKey); err != nil {
		return req, err
	}
	if req.ShardsNumber, err = nonZero32("shards_number", in.ShardsNumber); err != nil {
		return req, err
	}
	if req.ReplicationFactor, err = nonZero32("replication_factor", in.ReplicationFactor); err != nil {
		return req, err
	}
	req.Placement = in.Placement
	if in.InitialState != nil {
		st, err := parseReplicaState("initial_state", *in.InitialState)
		if err != nil {
			return req, err
		}
		req.InitialState = &st
	}
	return req, nil
}

// createShardKey serves PUT /collections/{name}/shards?timeout=.
func (s *Server) createShardKey(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	err := func() error {
		var in createShardKeyIn
		if err := s.decodeBody(w, r, &in); err != nil {
			return err
		}
		req, err := in.request()
		if err != nil {
			return err
		}
		ctx, cancel, err := metaContext(r)
		if err != nil {
			return err
		}
		defer cancel()
		return s.node.CreateShardKey(ctx, r.PathValue("name"), req)
	}()
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, true)
}

// dropShardKey serves POST /collections/{name}/shards/delete?timeout=.
func (s *Server) dropShardKey(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	err := func() error {
		var in struct {
			ShardKey json.RawMessage `json:"shard_key"`
		}
		if err := s.decodeBody(w, r, &in); err != nil {
			return err
		}
		key, err := shardKeyField(in.ShardKey)
		if err != nil {
			return err
		}
		ctx, cancel, err := metaContext(r)
		if err != nil {
			return err
		}
		defer cancel()
		return s.node.DropShardKey(ctx, r.PathValue("name"), key)
	}()
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, true)
}

type shardKeyDescription struct {
	Key json.RawMessage `json:"key"`
}

// shardKeysOut is Qdrant's ShardKeysResponse: shard_keys only with custom
// sharding (then a list, empty before the first key).
type shardKeysOut struct {
	ShardKeys *[]shardKeyDescription `json:"shard_keys,omitempty"`
}

// listShardKeys serves GET /collections/{name}/shards.
func (s *Server) listShardKeys(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	keys, custom, err := s.node.ShardKeys(r.PathValue("name"))
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	out := shardKeysOut{}
	if custom {
		list := make([]shardKeyDescription, len(keys))
		for i, k := range keys {
			list[i] = shardKeyDescription{Key: json.RawMessage(k)}
		}
		out.ShardKeys = &list
	}
	s.ok(w, start, out)
}

type localShardOut struct {
	ShardID     uint32          `json:"shard_id"`
	ShardKey    json.RawMessage `json:"shard_key,omitempty"`
	PointsCount int             `json:"points_count"`
	State       string          `json:"state"`
}

type remoteShardOut struct {
	ShardID  uint32          `json:"shard_id"`
	ShardKey json.RawMessage `json:"shard_key,omitempty"`
	PeerID   uint64          `json:"peer_id"`
	State    string          `json:"state"`
}

type shardTransferOut struct {
	ShardID uint32 `json:"shard_id"`
	From    uint64 `json:"from"`
	To      uint64 `json:"to"`
	Sync    bool   `json:"sync"`
	Method  string `json:"method,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// collectionClusterOut is Qdrant's CollectionClusterInfo.
type collectionClusterOut struct {
	PeerID               uint64             `json:"peer_id"`
	ShardCount           int                `json:"shard_count"`
	LocalShards          []localShardOut    `json:"local_shards"`
	RemoteShards         []remoteShardOut   `json:"remote_shards"`
	ShardTransfers       []shardTransferOut `json:"shard_transfers"`
	ReshardingOperations []struct{}         `json:"resharding_operations"`
}

func keyJSON(k collection.ShardKey) json.RawMessage {
	if k == "" {
		return nil
	}
	return json.RawMessage(k)
}

// collectionCluster serves GET /collections/{name}/cluster, on every peer
// and standalone.
func (s *Server) collectionCluster(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	info, err := s.node.CollectionClusterInfo(r.PathValue("name"))
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	out := collectionClusterOut{
		PeerID: info.PeerID, ShardCount: info.ShardCount,
		LocalShards:          make([]localShardOut, len(info.Local)),
		RemoteShards:         make([]remoteShardOut, len(info.Remote)),
		ShardTransfers:       make([]shardTransferOut, len(info.Transfers)),
		ReshardingOperations: []struct{}{},
	}
	for i, l := range info.Local {
		out.LocalShards[i] = localShardOut{ShardID: l.ID, ShardKey: keyJSON(l.Key), PointsCount: l.PointsCount, State: l.State.String()}
	}
	for i, rm := range info.Remote {
		out.RemoteShards[i] = remoteShardOut{ShardID: rm.ID, ShardKey: keyJSON(rm.Key), PeerID: rm.Peer, State: rm.State.String()}
	}
	for i, t := range info.Transfers {
		out.ShardTransfers[i] = shardTransferOut{ShardID: t.Shard, From: t.From, To: t.To, Sync: t.Sync, Method: t.Method, Comment: t.Comment}
	}
	s.ok(w, start, out)
}
