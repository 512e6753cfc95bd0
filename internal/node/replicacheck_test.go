package node

import (
	"testing"

	"github.com/shoaldb/shoal/internal/ops"
)

// TestReplicaCheckClocks: a replica counts as behind only for a tick
// another replica had a round before and it still lacks; a replica filled
// by records counts its cutoff as seen.
func TestReplicaCheckClocks(t *testing.T) {
	a, b := ops.ClockKey{PeerID: 1, ClockID: 0}, ops.ClockKey{PeerID: 2, ClockID: 3}
	eff := effectiveClocks(ops.RecoveryPoint{a: 5}, ops.RecoveryPoint{a: 3, b: 9})
	if eff[a] != 5 || eff[b] != 9 || len(eff) != 2 {
		t.Fatalf("effective clocks %v", eff)
	}
	if got := effectiveClocks(nil, nil); got == nil || len(got) != 0 {
		t.Fatalf("empty: %v", got)
	}
	before := ops.RecoveryPoint{a: 7, b: 4}
	// Caught up on a (an update in flight a round ago), not on b.
	still := stillMissing(before, ops.RecoveryPoint{a: 8, b: 3})
	if len(still) != 1 || still[b] != 4 {
		t.Fatalf("still missing %v, want only clock b at 4", still)
	}
	if got := stillMissing(nil, ops.RecoveryPoint{}); len(got) != 0 {
		t.Fatalf("nothing missing before: %v", got)
	}
	// A busy clock: others are always a tick ahead, yet the replica has
	// what they had a round ago.
	if got := stillMissing(ops.RecoveryPoint{a: 100}, ops.RecoveryPoint{a: 100}); len(got) != 0 {
		t.Fatalf("busy clock flagged: %v", got)
	}
}
