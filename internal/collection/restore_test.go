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

// TestFilledFromRestoredNoWALDelta: a replica filled by stream_records
// from a restored one takes its cutoff (Qdrant's cutoff update at the end
// of the stream), restore clock included. So a replica left with the
// history from before the restore (Dead meanwhile), whose clocks the
// filled replica's later writes extend, is not patched by a wal_delta
// from the filled replica (which would keep its old points): it falls
// back to stream_records and ends equal.
func TestFilledFromRestoredNoWALDelta(t *testing.T) {
	const body = `{"vectors":{"size":3,"distance":"Dot"}}`
	other := newMemCluster(t, []uint64{1, 2}, 1, 2, 1, body)
	m := newMemCluster(t, []uint64{1, 2, 3}, 1, 3, 1, body)
	for i := range uint64(50) {
		if _, err := other.write(1, Routing{}, true, vecPoint(1000+i, []float32{1, 2, 3}, 1)); err != nil {
			t.Fatal(err)
		}
		if _, err := m.write(1, Routing{}, true, vecPoint(i, []float32{3, 2, 1}, 0)); err != nil {
			t.Fatal(err)
		}
	}
	restoreArchive(t, m, 1, 0, shardArchive(t, other, 1, 0))
	m.setState(0, 2, ReplicaDead)
	m.setState(0, 3, ReplicaDead)
	m.setState(0, 2, ReplicaPartial)
	if used, err := m.peer(1).TransferShard(context.Background(), 0, &memRemote{net: m.net, peer: 2}, TransferStreamRecords, nil); err != nil || used != TransferStreamRecords {
		t.Fatalf("stream_records to peer 2: %s, %v", used, err)
	}
	m.setState(0, 2, ReplicaActive)
	if err := m.peer(1).EndTransfer(0); err != nil {
		t.Fatal(err)
	}
	for i := range uint64(5) {
		if _, err := m.write(1, Routing{}, true, vecPoint(2000+i, []float32{1, 1, 1}, 2)); err != nil {
			t.Fatal(err)
		}
	}
	m.setState(0, 3, ReplicaRecovery)
	used, err := m.peer(2).TransferShard(context.Background(), 0, &memRemote{net: m.net, peer: 3}, TransferWALDelta, nil)
	if err != nil {
		t.Fatal(err)
	}
	if used != TransferStreamRecords {
		t.Fatalf("method used %s, want the fallback stream_records", used)
	}
	m.setState(0, 3, ReplicaActive)
	if err := m.peer(2).EndTransfer(0); err != nil {
		t.Fatal(err)
	}
	if n := m.sameReplicas()[0]; n != 55 {
		t.Fatalf("%d points, want the snapshot's 50 and 5 written after", n)
	}
}

// TestRestoreTickPastEarlierMarks: a restore's mark is newer than the
// marks the replaced replica and the image hold, even when the wall clock
// reads earlier than them (set back since an earlier restore).
func TestRestoreTickPastEarlierMarks(t *testing.T) {
	now := restoreTick(0, 0)
	if now == 0 {
		t.Fatal("a zero mark")
	}
	ahead := now + 1e15 // an earlier restore's mark, from a clock then set back
	for _, tc := range []struct{ replaced, image, want uint64 }{
		{ahead, 0, ahead + 1},
		{0, ahead, ahead + 1},
		{ahead, ahead + 5, ahead + 6},
	} {
		if got := restoreTick(tc.replaced, tc.image); got != tc.want {
			t.Errorf("restoreTick(%d, %d) = %d, want %d", tc.replaced, tc.image, got, tc.want)
		}
	}
	if got := restoreTick(1, 2); got < now {
		t.Errorf("restoreTick(1, 2) = %d, before the wall clock %d", got, now)
	}
}
