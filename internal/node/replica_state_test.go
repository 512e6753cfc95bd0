package node

import (
	"testing"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/collection"
)

// TestReplicaStatesMirror: collection mirrors the cluster's replica
// states (it does not import cluster), so that the node turns one into
// the other with a cast: the same numbers carry the same names.
func TestReplicaStatesMirror(t *testing.T) {
	for s := cluster.ReplicaActive; s <= cluster.ReplicaManualRecovery; s++ {
		if got := collection.ReplicaState(s).String(); got != s.String() {
			t.Errorf("state %d: collection says %q, cluster %q", s, got, s.String())
		}
	}
	if next := cluster.ReplicaState(uint8(collection.ReplicaManualRecovery) + 1); next.Valid() {
		t.Errorf("cluster has state %s after ManualRecovery, which collection does not mirror", next)
	}
}
