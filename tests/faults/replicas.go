package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/clustertest/history"
)

// collInfo is the part of GET /collections/{c}/cluster the checks read.
type collInfo struct {
	PeerID      uint64 `json:"peer_id"`
	LocalShards []struct {
		ShardID uint32 `json:"shard_id"`
		State   string `json:"state"`
	} `json:"local_shards"`
	RemoteShards []struct {
		ShardID uint32 `json:"shard_id"`
		PeerID  uint64 `json:"peer_id"`
		State   string `json:"state"`
	} `json:"remote_shards"`
	ShardTransfers []json.RawMessage `json:"shard_transfers"`
}

// placement is shard -> peer -> replica state.
type placement map[uint32]map[uint64]string

func readPlacement(p *clustertest.Peer, coll string) (placement, int, error) {
	var ci collInfo
	if err := p.Do(http.MethodGet, "/collections/"+coll+"/cluster", nil, &ci); err != nil {
		return nil, 0, err
	}
	return placementOf(ci), len(ci.ShardTransfers), nil
}

// placementOf is the placement a GET /collections/{c}/cluster shows.
func placementOf(ci collInfo) placement {
	out := placement{}
	add := func(s uint32, peer uint64, st string) {
		if out[s] == nil {
			out[s] = map[uint64]string{}
		}
		out[s][peer] = st
	}
	for _, l := range ci.LocalShards {
		add(l.ShardID, ci.PeerID, l.State)
	}
	for _, r := range ci.RemoteShards {
		add(r.ShardID, r.PeerID, r.State)
	}
	return out
}

// allActive reports nil when every peer sees shards shards of replicas
// Active replicas each and no transfer, and returns the placement.
func allActive(peers []*clustertest.Peer, coll string, shards, replicas int) (placement, error) {
	var first placement
	for _, p := range peers {
		pl, transfers, err := readPlacement(p, coll)
		if err != nil {
			return nil, fmt.Errorf("peer %d: %w", p.Index, err)
		}
		if len(pl) != shards || transfers != 0 {
			return nil, fmt.Errorf("peer %d: %d shards, %d transfers: %v", p.Index, len(pl), transfers, pl)
		}
		for s, r := range pl {
			if len(r) != replicas {
				return nil, fmt.Errorf("peer %d: shard %d replicas %v", p.Index, s, r)
			}
			for peer, st := range r {
				if st != "Active" {
					return nil, fmt.Errorf("peer %d: shard %d on %d is %s", p.Index, s, peer, st)
				}
			}
		}
		if first == nil {
			first = pl
		}
	}
	return first, nil
}

// p2pConns reads single replicas over P2P.
type p2pConns = clustertest.ReplicaReader

func newP2PConns(peers []*clustertest.Peer) (*p2pConns, error) {
	return clustertest.NewReplicaReader(peers)
}

// replicaDump reads one replica of one shard on one peer, over P2P.
func replicaDump(ctx context.Context, pc *p2pConns, peer uint64, coll string, shard uint32) (history.Dump, error) {
	return pc.Dump(ctx, peer, coll, shard)
}

// compareReplicas reads every replica of every shard and returns the
// differences between replicas of one shard.
func compareReplicas(ctx context.Context, pc *p2pConns, coll string, pl placement) ([]history.Difference, error) {
	var diffs []history.Difference
	for _, s := range slices.Sorted(mapKeys(pl)) {
		var reps []history.Replica
		for _, peer := range slices.Sorted(mapKeys(pl[s])) {
			d, err := replicaDump(ctx, pc, peer, coll, s)
			if err != nil {
				return nil, err
			}
			reps = append(reps, history.Replica{Name: fmt.Sprintf("%s shard %d on peer %d", coll, s, peer), Points: d})
		}
		diffs = append(diffs, history.CompareReplicas(reps)...)
	}
	return diffs, nil
}
