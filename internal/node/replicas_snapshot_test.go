package node

import (
	"testing"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/point"
)

// TestSnapshotTransferTo: a peer takes a shard archive only from the
// source of a snapshot transfer of that shard to it that consensus
// records.
func TestSnapshotTransferTo(t *testing.T) {
	c := cluster.Collection{Transfers: []cluster.Transfer{
		{Shard: 1, From: 7, To: 9, Method: cluster.TransferSnapshot},
		{Shard: 2, From: 7, To: 9, Method: cluster.TransferWALDelta},
	}}
	for _, tc := range []struct {
		name        string
		shard       uint32
		from, self  uint64
		wantRefused bool
	}{
		{"the transfer", 1, 7, 9, false},
		{"another source", 1, 8, 9, true},
		{"another target", 1, 7, 8, true},
		{"another shard", 3, 7, 9, true},
		{"another method", 2, 7, 9, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := snapshotTransferTo(c, tc.shard, tc.from, tc.self)
			if refused := err != nil; refused != tc.wantRefused {
				t.Fatalf("err %v, want refused %v", err, tc.wantRefused)
			}
			if err != nil && point.KindOf(err) != point.KindUnavailable {
				t.Fatalf("%v is not unavailable", err)
			}
		})
	}
}
