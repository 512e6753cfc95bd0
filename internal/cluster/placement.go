package cluster

import (
	"encoding/binary"
	"hash/fnv"
	"maps"
	"slices"
)

// SuggestPlacement spreads shardNumber shards of replicationFactor replicas
// each over peers, like Qdrant's suggest_shard_distribution: each replica
// goes to the peer with the fewest replicas so far (load counts replicas
// already on each peer, e.g. State.PeerLoad), never two replicas of one
// shard on one peer, so at most len(peers) replicas per shard.
//
// Qdrant breaks ties between equally loaded peers at random so that small
// collections do not all land on the same peers; here the tie breaker is a
// hash of salt (the collection name) and the peer id, which spreads them as
// well but gives every peer the same answer. The result maps each shard to
// its peers, sorted.
func SuggestPlacement(shardNumber, replicationFactor uint32, peers []PeerID, load map[PeerID]int, salt string) map[ShardID][]PeerID {
	type cand struct {
		id   PeerID
		load int
		bias uint64
	}
	cands := make([]cand, 0, len(peers))
	seen := make(map[PeerID]bool, len(peers))
	for _, p := range peers {
		if seen[p] {
			continue
		}
		seen[p] = true
		cands = append(cands, cand{id: p, load: load[p], bias: tieBreak(salt, p)})
	}
	replicas := min(int(replicationFactor), len(cands))
	out := make(map[ShardID][]PeerID, shardNumber)
	for s := range shardNumber {
		slices.SortFunc(cands, func(a, b cand) int {
			switch {
			case a.load != b.load:
				return a.load - b.load
			case a.bias != b.bias:
				return cmpInt(a.bias, b.bias)
			}
			return cmpInt(a.id, b.id)
		})
		chosen := make([]PeerID, replicas)
		for i := range replicas {
			chosen[i] = cands[i].id
			cands[i].load++
		}
		slices.Sort(chosen)
		out[ShardID(s)] = chosen
	}
	return out
}

func tieBreak(salt string, p PeerID) uint64 {
	h := fnv.New64a()
	h.Write([]byte(salt))
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(p))
	h.Write(b[:])
	return h.Sum64()
}

// placementFor returns the replicas of a new collection: the explicit
// placement validated against the peers, or a suggested one.
func (s *State) placementFor(op CreateCollection) (map[ShardID]Replicas, error) {
	if len(s.peers) == 0 {
		return nil, badRequest("Can't create collection `%s`: the cluster has no peers", op.Name)
	}
	placement := op.Placement
	if placement == nil {
		placement = SuggestPlacement(op.ShardNumber, op.ReplicationFactor, s.PeerIDs(), s.PeerLoad(), op.Name)
	}
	shards := make(map[ShardID]Replicas, len(placement))
	for _, shard := range slices.Sorted(maps.Keys(placement)) {
		peers := placement[shard]
		if uint32(shard) >= op.ShardNumber {
			return nil, badInput("Placement names shard %d, but the collection has %d shards", shard, op.ShardNumber)
		}
		if len(peers) == 0 {
			return nil, badInput("Placement of shard %d has no peers", shard)
		}
		r := make(Replicas, len(peers))
		for _, p := range peers {
			if _, ok := s.peers[p]; !ok {
				return nil, badRequest("Peer %d does not exist", p)
			}
			if _, dup := r[p]; dup {
				return nil, badInput("Placement of shard %d names peer %d twice", shard, p)
			}
			r[p] = ReplicaInitializing
		}
		shards[shard] = r
	}
	if uint32(len(shards)) != op.ShardNumber {
		return nil, badInput("Placement covers %d shards, but the collection has %d", len(shards), op.ShardNumber)
	}
	return shards, nil
}
