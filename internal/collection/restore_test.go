package collection

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/shoaldb/shoal/internal/shard"
	"github.com/shoaldb/shoal/internal/snapshot"
)

// shardArchive is an archive of peer p's replica of shard s.
func shardArchive(t *testing.T, m *memCluster, p uint64, s ShardID) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := snapshot.NewWriter(&buf, snapshot.KindShard, nil)
	meta, err := m.peer(p).ShardSnapshot(context.Background(), s, w)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// restoreArchive replaces peer p's replica of shard s by the archive.
func restoreArchive(t *testing.T, m *memCluster, p uint64, s ShardID, archive []byte) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "image")
	if _, err := shard.RestoreSnapshot(bytes.NewReader(archive), dir, snapshot.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := m.peer(p).RestoreShard(s, dir); err != nil {
		t.Fatal(err)
	}
}

// TestRestoredReplicaNoWALDelta: a replica restored from a snapshot of
// another history whose clocks say the same as the other replica's (two
// clusters with the same peer ids, each written 50 times through peer 1)
// must not take part in a wal_delta, from or to it: the recovery points
// are equal, so a wal_delta would send nothing and leave the replicas
// apart. The restore clock makes both directions fall back to
// stream_records, and the replicas end equal.
func TestRestoredReplicaNoWALDelta(t *testing.T) {
	for _, tc := range []struct {
		name             string
		restored, source uint64
	}{
		{"from the restored replica", 1, 2},
		{"to the restored replica", 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const body = `{"vectors":{"size":3,"distance":"Dot"}}`
			other := newMemCluster(t, []uint64{1, 2}, 1, 2, 1, body)
			m := newMemCluster(t, []uint64{1, 2}, 1, 2, 1, body)
			for i := range uint64(50) {
				if _, err := other.write(1, Routing{}, true, vecPoint(1000+i, []float32{1, 2, 3}, 1)); err != nil {
					t.Fatal(err)
				}
				if _, err := m.write(1, Routing{}, true, vecPoint(i, []float32{3, 2, 1}, 0)); err != nil {
					t.Fatal(err)
				}
			}
			archive := shardArchive(t, other, 1, 0)
			restoreArchive(t, m, tc.restored, 0, archive)
			target := uint64(3) - tc.source
			m.setState(0, target, ReplicaDead)
			m.setState(0, target, ReplicaRecovery)
			used, err := m.peer(tc.source).TransferShard(context.Background(), 0, &memRemote{net: m.net, peer: target}, TransferWALDelta, nil)
			if err != nil {
				t.Fatal(err)
			}
			if used != TransferStreamRecords {
				t.Fatalf("method used %s, want the fallback stream_records", used)
			}
			m.setState(0, target, ReplicaActive)
			if err := m.peer(tc.source).EndTransfer(0); err != nil {
				t.Fatal(err)
			}
			if n := m.sameReplicas()[0]; n != 50 {
				t.Fatalf("%d points, want 50", n)
			}
			want := 0
			if tc.source == 1 && tc.restored == 1 || tc.source == 2 && tc.restored == 2 {
				want = 1000
			}
			for _, r := range m.dump(target, 0) {
				if id := r.ID.Num(); id < uint64(want) || id >= uint64(want)+50 {
					t.Fatalf("the target holds point %d, not the source's history", id)
				}
			}
		})
	}
}
