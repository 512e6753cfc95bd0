package rest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/shoaldb/shoal/internal/node"
)

// POST /collections/{name}/cluster (Qdrant's update_collection_cluster):
// one of the ClusterOperations, an untagged enum of single-key objects.
// move_shard, replicate_shard, abort_transfer, drop_replica and
// restart_transfer go to consensus through the node;
// create_sharding_key and drop_sharding_key are PUT /shards and POST
// /shards/delete.

type transferIn struct {
	ShardID    *uint64 `json:"shard_id"`
	ToShardID  *uint64 `json:"to_shard_id"`
	FromPeerID *uint64 `json:"from_peer_id"`
	ToPeerID   *uint64 `json:"to_peer_id"`
	PeerID     *uint64 `json:"peer_id"`
	Method     *string `json:"method"`
}

type clusterOpsIn struct {
	MoveShard         *transferIn       `json:"move_shard"`
	ReplicateShard    *transferIn       `json:"replicate_shard"`
	AbortTransfer     *transferIn       `json:"abort_transfer"`
	DropReplica       *transferIn       `json:"drop_replica"`
	RestartTransfer   *transferIn       `json:"restart_transfer"`
	CreateShardingKey *createShardKeyIn `json:"create_sharding_key"`
	DropShardingKey   *struct {
		ShardKey json.RawMessage `json:"shard_key"`
	} `json:"drop_sharding_key"`
}

// errNoVariant is serde's answer to a body that fits no variant.
var errNoVariant = formatError(fmt.Errorf("data did not match any variant of untagged enum ClusterOperations"))

var transferMethods = map[string]bool{"stream_records": true, "snapshot": true, "wal_delta": true}

// op checks one transfer variant: the fields it needs, in range, and a
// known method (required: method required too).
func (t *transferIn) op(kind string, peers []string, methodRequired bool) (node.ClusterOperation, error) {
	op := node.ClusterOperation{Kind: kind}
	get := func(v *uint64, max uint64) (uint64, bool) {
		if v == nil || *v > max {
			return 0, false
		}
		return *v, true
	}
	sh, ok := get(t.ShardID, math.MaxUint32)
	if !ok {
		return op, errNoVariant
	}
	op.Shard = uint32(sh)
	for _, p := range peers {
		var v *uint64
		switch p {
		case "from":
			v = t.FromPeerID
		case "to":
			v = t.ToPeerID
		case "peer":
			v = t.PeerID
		}
		n, ok := get(v, math.MaxUint64)
		if !ok {
			return op, errNoVariant
		}
		switch p {
		case "from":
			op.From = n
		case "to":
			op.To = n
		case "peer":
			op.Peer = n
		}
	}
	if t.Method != nil {
		if !transferMethods[*t.Method] {
			return op, errNoVariant
		}
		op.Method = *t.Method
	} else if methodRequired {
		return op, errNoVariant
	}
	if t.ToShardID != nil {
		return op, badRequest("Resharding transfers (to_shard_id) are not supported")
	}
	return op, nil
}

// updateCollectionCluster serves POST /collections/{name}/cluster?timeout=.
func (s *Server) updateCollectionCluster(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	err := func() error {
		var in clusterOpsIn
		if err := s.decodeBody(w, r, &in); err != nil {
			return err
		}
		set := 0
		for _, p := range []bool{in.MoveShard != nil, in.ReplicateShard != nil, in.AbortTransfer != nil, in.DropReplica != nil,
			in.RestartTransfer != nil, in.CreateShardingKey != nil, in.DropShardingKey != nil} {
			if p {
				set++
			}
		}
		if set != 1 {
			return errNoVariant
		}
		ctx, cancel, err := metaContext(r)
		if err != nil {
			return err
		}
		defer cancel()
		name := r.PathValue("name")
		var op node.ClusterOperation
		switch {
		case in.CreateShardingKey != nil:
			req, err := in.CreateShardingKey.request()
			if err != nil {
				return err
			}
			return s.node.CreateShardKey(ctx, name, req)
		case in.DropShardingKey != nil:
			key, err := shardKeyField(in.DropShardingKey.ShardKey)
			if err != nil {
				return err
			}
			return s.node.DropShardKey(ctx, name, key)
		case in.MoveShard != nil:
			op, err = in.MoveShard.op("move_shard", []string{"from", "to"}, false)
		case in.ReplicateShard != nil:
			op, err = in.ReplicateShard.op("replicate_shard", []string{"from", "to"}, false)
		case in.AbortTransfer != nil:
			op, err = in.AbortTransfer.op("abort_transfer", []string{"from", "to"}, false)
		case in.RestartTransfer != nil:
			op, err = in.RestartTransfer.op("restart_transfer", []string{"from", "to"}, true)
		case in.DropReplica != nil:
			op, err = in.DropReplica.op("drop_replica", []string{"peer"}, false)
		}
		if err != nil {
			return err
		}
		return s.node.UpdateCollectionCluster(ctx, name, op)
	}()
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, true)
}
