package cluster

import "slices"

// shard looks up a collection and one of its shards.
func (s *State) shard(collection string, shard ShardID) (*Collection, Replicas, error) {
	c, ok := s.collections[collection]
	if !ok {
		return nil, nil, collectionNotFound(collection)
	}
	r, ok := c.Shards[shard]
	if !ok {
		return nil, nil, badRequest("Shard %d does not exist", shard)
	}
	return c, r, nil
}

func stateName(r Replicas, p PeerID) string {
	if st, ok := r[p]; ok {
		return st.String()
	}
	return "none"
}

// lastActive reports whether p holds the only Active replica of the shard.
func lastActive(r Replicas, p PeerID) bool {
	if r[p] != ReplicaActive {
		return false
	}
	for q, st := range r {
		if q != p && st == ReplicaActive {
			return false
		}
	}
	return true
}

// setReplicaState follows Qdrant's set_shard_replica_state: the replica
// must exist or its peer be known, FromState must match, the last Active
// replica is never deactivated, and a replica marked Dead aborts the
// transfers it takes part in.
func (s *State) setReplicaState(op SetReplicaState) (bool, error) {
	c, r, err := s.shard(op.Collection, op.Shard)
	if err != nil {
		return false, err
	}
	if !op.State.Valid() {
		return false, badInput("Invalid replica state %d", uint8(op.State))
	}
	cur, exists := r[op.Peer]
	if _, known := s.peers[op.Peer]; !known && !exists {
		return false, badInput("Can't set replica %d:%d state to %s, because replica %d:%d does not exist and peer %d is not part of the cluster",
			op.Peer, op.Shard, op.State, op.Peer, op.Shard, op.Peer)
	}
	if op.FromState != nil && (!exists || cur != *op.FromState) {
		return false, badInput("Replica %d of shard %d has state %s, but expected %s",
			op.Peer, op.Shard, stateName(r, op.Peer), *op.FromState)
	}
	if op.State != ReplicaActive && lastActive(r, op.Peer) {
		return false, badInput("Cannot deactivate the last active replica %d of shard %d", op.Peer, op.Shard)
	}
	if exists && cur == op.State {
		return false, nil
	}
	r[op.Peer] = op.State
	if op.State == ReplicaDead {
		for _, t := range slices.Clone(c.Transfers) {
			if t.involves(op.Shard, op.Peer) {
				c.abort(t.Key())
			}
		}
	}
	return true, nil
}

// removeReplica is Qdrant's DropReplica: the replica must exist, must not
// be the last Active one, and its transfers are aborted.
func (s *State) removeReplica(op RemoveReplica) (bool, error) {
	c, r, err := s.shard(op.Collection, op.Shard)
	if err != nil {
		return false, err
	}
	if _, ok := r[op.Peer]; !ok {
		return false, badRequest("Shard %d is not present on peer %d", op.Shard, op.Peer)
	}
	if lastActive(r, op.Peer) {
		return false, badRequest("Shard %d must have at least one active replica after removing", op.Shard)
	}
	for _, t := range slices.Clone(c.Transfers) {
		if t.involves(op.Shard, op.Peer) {
			c.abort(t.Key())
		}
	}
	delete(r, op.Peer)
	return true, nil
}

// startTransfer validates like Qdrant's validate_transfer: both peers
// exist and differ, the source replica is Active, no transfer of the shard
// already involves either peer, and the target holds no live replica (only
// a Dead one may be recovered in place).
func (s *State) startTransfer(op StartTransfer) (bool, error) {
	c, r, err := s.shard(op.Collection, op.Transfer.Shard)
	if err != nil {
		return false, err
	}
	t := op.Transfer
	if t.Method == "" {
		t.Method = TransferStreamRecords
	}
	if !t.Method.Valid() {
		return false, badInput("Unknown shard transfer method %q", t.Method)
	}
	for _, p := range []PeerID{t.From, t.To} {
		if _, ok := s.peers[p]; !ok {
			return false, badRequest("Peer %d does not exist", p)
		}
	}
	if t.From == t.To {
		return false, badRequest("Source and target peer of a transfer must differ, both are %d", t.From)
	}
	if r[t.From] != ReplicaActive {
		return false, badRequest("Shard %d is not active on peer %d", t.Shard, t.From)
	}
	for _, other := range c.Transfers {
		if other.involves(t.Shard, t.From) || other.involves(t.Shard, t.To) {
			return false, badRequest("Shard %d is already involved in transfer %d -> %d", t.Shard, other.From, other.To)
		}
	}
	if st, ok := r[t.To]; ok && st != ReplicaDead {
		return false, badRequest("Shard %d is already present on peer %d (state %s)", t.Shard, t.To, st)
	}
	c.addTransfer(t)
	r[t.To] = t.Method.targetState()
	return true, nil
}

func (s *State) transferOf(collection string, k TransferKey) (*Collection, error) {
	c, _, err := s.shard(collection, k.Shard)
	if err != nil {
		return nil, err
	}
	if c.transfer(k) < 0 {
		return nil, badRequest("There is no transfer for shard %d from %d to %d", k.Shard, k.From, k.To)
	}
	return c, nil
}

func (s *State) finishTransfer(op FinishTransfer) (bool, error) {
	c, err := s.transferOf(op.Collection, op.Key)
	if err != nil {
		return false, err
	}
	i := c.transfer(op.Key)
	t := c.Transfers[i]
	c.Transfers = slices.Delete(c.Transfers, i, i+1)
	r := c.Shards[t.Shard]
	r[t.To] = ReplicaActive
	if !t.Sync {
		delete(r, t.From)
	}
	return true, nil
}

func (s *State) abortTransfer(op AbortTransfer) (bool, error) {
	c, err := s.transferOf(op.Collection, op.Key)
	if err != nil {
		return false, err
	}
	c.abort(op.Key)
	return true, nil
}

// restartTransfer changes the method of a transfer in flight: the target
// takes the new method's receiving state (Qdrant's restart_shard_transfer).
func (s *State) restartTransfer(op RestartTransfer) (bool, error) {
	c, err := s.transferOf(op.Collection, op.Key)
	if err != nil {
		return false, err
	}
	if !op.Method.Valid() {
		return false, badInput("Unknown shard transfer method %q", op.Method)
	}
	i := c.transfer(op.Key)
	t := &c.Transfers[i]
	r := c.Shards[t.Shard]
	if t.Method == op.Method && r[t.To] == op.Method.targetState() {
		return false, nil
	}
	t.Method = op.Method
	r[t.To] = op.Method.targetState()
	return true, nil
}

// abort drops a transfer and undoes its target, as Qdrant's
// abort_shard_transfer: a replicate's target is marked Dead (to be
// recovered or dropped later), a move's target is dropped.
func (c *Collection) abort(k TransferKey) {
	i := c.transfer(k)
	if i < 0 {
		return
	}
	t := c.Transfers[i]
	c.Transfers = slices.Delete(c.Transfers, i, i+1)
	r := c.Shards[t.Shard]
	if _, ok := r[t.To]; !ok {
		return
	}
	if t.Sync {
		r[t.To] = ReplicaDead
	} else {
		delete(r, t.To)
	}
}
