package node

import (
	"testing"

	"github.com/shoaldb/shoal/internal/cluster"
)

// TestShardBusy: a transfer's driver waits while a driver of another
// transfer of the same shard of the same collection runs here (one
// proxy per shard), and only then.
func TestShardBusy(t *testing.T) {
	id := func(coll string, shard cluster.ShardID, to cluster.PeerID) transferID {
		return transferID{collection: coll, key: cluster.TransferKey{Shard: shard, From: 1, To: to}}
	}
	want := id("c", 0, 3)
	for _, tc := range []struct {
		name    string
		running []transferID
		busy    bool
	}{
		{"nothing runs", nil, false},
		{"its own driver", []transferID{want}, false},
		{"another target, same shard", []transferID{id("c", 0, 2)}, true},
		{"another shard", []transferID{id("c", 1, 2)}, false},
		{"another collection", []transferID{id("d", 0, 2)}, false},
	} {
		x := &transferRuns{running: map[transferID]*transferRun{}}
		for _, r := range tc.running {
			x.running[r] = &transferRun{}
		}
		if got := x.shardBusyLocked(want); got != tc.busy {
			t.Errorf("%s: busy %v, want %v", tc.name, got, tc.busy)
		}
	}
}
