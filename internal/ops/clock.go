package ops

import "fmt"

// ClockTag orders the updates one peer sends to the replicas of a shard,
// Qdrant's ClockTag: the coordinating peer tags each update with one of its
// clocks (ClockID) and the clock's next Tick; a replica applies an update
// only if its tick is newer than the newest it has applied for that
// (PeerID, ClockID), and otherwise answers with that newest tick, so the
// sender retries with a newer one. Token tells two senders apart that
// reuse a clock after a restart. Force applies the update whatever the
// tick (a recovering replica catching up).
type ClockTag struct {
	PeerID  uint64
	ClockID uint32
	Tick    uint64
	Token   uint64
	Force   bool
}

// Key is the clock the tag belongs to.
func (t ClockTag) Key() ClockKey { return ClockKey{PeerID: t.PeerID, ClockID: t.ClockID} }

func (t ClockTag) String() string {
	return fmt.Sprintf("clock %d/%d tick %d", t.PeerID, t.ClockID, t.Tick)
}

// ClockKey names one clock of one peer.
type ClockKey struct {
	PeerID  uint64
	ClockID uint32
}

// RecoveryPoint is, per clock, the newest tick a replica has applied: what
// it has seen of every sender, Qdrant's RecoveryPoint. A replica that
// misses updates has a lower tick for some clock than its peers.
type RecoveryPoint map[ClockKey]uint64

// Held is, per clock, the newest tick whose update a replica holds: the
// newer of its recovery point rp and its cutoff (a replica filled by
// records or a snapshot holds the updates its cutoff covers without their
// ticks). The result is a new map.
func (rp RecoveryPoint) Held(cutoff RecoveryPoint) RecoveryPoint {
	out := make(RecoveryPoint, len(rp)+len(cutoff))
	for k, t := range rp {
		out[k] = t
	}
	for k, t := range cutoff {
		out[k] = max(out[k], t)
	}
	return out
}
