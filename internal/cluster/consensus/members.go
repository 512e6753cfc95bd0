package consensus

import (
	"slices"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// memberChange is a membership change waiting to be committed. Raft takes
// one conf change at a time and drops any other proposed meanwhile without
// a word (the leader turns it into an empty entry), and a proposal
// forwarded to a leader that loses its term is lost too: so the Run
// goroutine keeps the changes in a queue, proposes the first one when no
// other is pending in its log, and proposes it again if it is not applied
// within retryTicks, until it is applied, its waiter gives up, or (a
// leader's own promotion) this peer stops leading.
type memberChange struct {
	id         uint64 // the waiter's proposal id; 0 for the leader's promotions
	cc         raftpb.ConfChange
	proposedAt uint64 // n.ticks+1 when last proposed; 0 never
}

// retryTicks is how long a proposed membership change may take to be
// applied here before it is proposed again.
func (n *Node) retryTicks() uint64 { return 2 * uint64(n.cfg.ElectionTicks) }

// proposeMembers drops the queued changes that are done or abandoned and
// proposes the first of the others when raft can take it.
func (n *Node) proposeMembers() {
	if len(n.members) == 0 {
		return
	}
	leading := n.rn.BasicStatus().RaftState == raft.StateLeader
	n.members = slices.DeleteFunc(n.members, func(m memberChange) bool {
		switch {
		case n.reflected(m.cc):
			n.finish(m.id, result{}) // someone else's identical change did it
			return true
		case m.id == 0:
			return !leading
		default:
			return !n.waiting(m.id)
		}
	})
	if len(n.members) == 0 || n.pendingConf > n.applied {
		return
	}
	m := &n.members[0]
	if m.proposedAt != 0 && n.ticks+1-m.proposedAt < n.retryTicks() {
		return
	}
	if m.proposedAt != 0 {
		n.log.Info("membership change not applied in time; proposing it again", "type", m.cc.Type.String(), "peer", m.cc.NodeID)
	}
	if err := n.rn.ProposeConfChange(m.cc); err != nil {
		m.proposedAt = 0 // no leader yet: try again at the next event
		return
	}
	m.proposedAt = n.ticks + 1
}

// dropMember removes from the queue the changes an applied conf change
// settles: its own (already answered by apply) and identical ones queued
// by other waiters, which are answered now.
func (n *Node) dropMember(cc raftpb.ConfChange) {
	id, _, _ := unwrap(cc.Context)
	n.members = slices.DeleteFunc(n.members, func(m memberChange) bool {
		if id != 0 && m.id == id {
			return true
		}
		if m.cc.Type == cc.Type && m.cc.NodeID == cc.NodeID {
			n.finish(m.id, result{})
			return true
		}
		return false
	})
}

// queued reports whether a change of that type for that peer waits.
func (n *Node) queued(t raftpb.ConfChangeType, peer uint64) bool {
	return slices.ContainsFunc(n.members, func(m memberChange) bool { return m.cc.Type == t && m.cc.NodeID == peer })
}

// reflected reports whether the applied configuration already has what cc
// asks for.
func (n *Node) reflected(cc raftpb.ConfChange) bool {
	voter := slices.Contains(n.conf.Voters, cc.NodeID)
	learner := slices.Contains(n.conf.Learners, cc.NodeID)
	switch cc.Type {
	case raftpb.ConfChangeAddLearnerNode:
		return voter || learner
	case raftpb.ConfChangeAddNode:
		return voter
	case raftpb.ConfChangeRemoveNode:
		return !voter && !learner
	}
	return false
}

// redundant reports whether a committed conf change would change nothing,
// or undo a later change: an AddLearner of a voter would demote it. It
// depends only on the applied log, so every peer decides alike.
func (n *Node) redundant(cc raftpb.ConfChange) bool {
	if len(n.conf.Voters) == 0 {
		return false // the bootstrap configuration
	}
	return n.reflected(cc)
}

func (n *Node) waiting(id uint64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.waiters[id]
	return ok
}
