package collection

import (
	"context"
	"testing"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// TestReplicaDigest: replicas holding the same points have the same
// digest; a point that differs on one (its payload) changes its digest;
// the digest of a still replica is cached, and a new update refreshes it.
func TestReplicaDigest(t *testing.T) {
	ctx := context.Background()
	m := newMemCluster(t, []uint64{1, 2}, 1, 2, 2, dotBody)
	for i := range uint64(20) {
		if _, err := m.write(1, Routing{}, true, vecPoint(i+1, []float32{float32(i), 1, 0, 0}, 0)); err != nil {
			t.Fatal(err)
		}
	}
	digest := func(p uint64) uint64 {
		t.Helper()
		d, err := m.peer(p).ReplicaDigest(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d1, d2 := digest(1), digest(2)
	if d1 != d2 || d1 == 0 {
		t.Fatalf("equal replicas: digests %x and %x", d1, d2)
	}
	if again := digest(1); again != d1 {
		t.Fatalf("a still replica's digest changed: %x then %x", d1, again)
	}
	// Peer 2's replica alone takes another payload for point 3.
	local, _ := m.peer(2).layout().set(0).Local()
	op := &ops.Operation{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(3)}, Payload: point.Payload{"k": "v"}}
	if _, err := local.Update(ctx, op, true); err != nil {
		t.Fatal(err)
	}
	if d := digest(2); d == d1 {
		t.Fatalf("a replica with another payload kept the digest %x", d)
	}
	if digest(1) != d1 {
		t.Fatal("the other replica's digest changed")
	}
}
