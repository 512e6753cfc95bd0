package collection

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vfs"
)

// SendShardSnapshot makes memRemote a SnapshotRemote: the stream goes to
// the peer's ReplicaReceiveSnapshot, mangled first when the test asks.
func (r *memRemote) SendShardSnapshot(ctx context.Context, coll string, s ShardID, _ uint64, size int64, src io.Reader, sent func(int64)) error {
	c, err := r.gate(ctx, true)
	if err != nil {
		return err
	}
	if r.net.mangleSnapshot != nil {
		b, err := io.ReadAll(src)
		if err != nil {
			return err
		}
		var declared int64
		b, declared = r.net.mangleSnapshot(b, size)
		src, size = bytes.NewReader(b), declared
	}
	cr := &countingReader{r: src, sent: sent}
	return overWire(c.ReplicaReceiveSnapshot(ctx, s, size, cr))
}

type countingReader struct {
	r    io.Reader
	n    int64
	sent func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if n > 0 && c.sent != nil {
		c.sent(c.n)
	}
	return n, err
}

// plainRemote is a target that takes no snapshot stream.
type plainRemote struct{ TransferRemote }

// transferLeftovers lists the temporary directories of snapshot
// transfers in the collection's directory.
func transferLeftovers(t *testing.T, c *Collection) []string {
	t.Helper()
	names, err := vfs.OrDefault(c.fsys).ReadDir(c.dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, ".snapshot-transfer-") {
			out = append(out, n)
		}
	}
	return out
}

func TestSnapshotTransferFallsBack(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2}, 1, 1, 1, `{"vectors":{"size":3,"distance":"Dot"}}`)
	for i := range uint64(50) {
		if _, err := m.write(1, Routing{}, true, vecPoint(i, []float32{1, 2, 3}, 0)); err != nil {
			t.Fatal(err)
		}
	}
	m.setState(0, 2, ReplicaRecovery)
	used, err := m.peer(1).TransferShard(context.Background(), 0, plainRemote{&memRemote{net: m.net, peer: 2}}, TransferSnapshot, nil)
	if err != nil || used != TransferStreamRecords {
		t.Fatalf("used %s, %v; want the fallback stream_records", used, err)
	}
	m.setState(0, 2, ReplicaActive)
	m.peer(1).EndTransfer(0)
	if n := m.sameReplicas()[0]; n != 50 {
		t.Fatalf("%d points, want 50", n)
	}
}

// TestSnapshotTransferClocks: the replica a snapshot transfer fills holds
// the clocks of the image and of the operations sent after it (its
// recovery point equals the source's), its cutoff is raised to them, the
// temporary archives are gone on both sides, and a later wal_delta from
// it to a replica that missed writes sends only the delta.
func TestSnapshotTransferClocks(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2, 3}, 1, 2, 1, `{"vectors":{"size":3,"distance":"Dot"}}`)
	for i := range uint64(200) {
		if _, err := m.write(1, Routing{}, true, vecPoint(i, []float32{1, 2, 3}, 0)); err != nil {
			t.Fatal(err)
		}
	}
	m.setState(0, 3, ReplicaRecovery)
	var prog []TransferProgress
	used, err := m.peer(1).TransferShard(context.Background(), 0, &memRemote{net: m.net, peer: 3}, TransferSnapshot, func(p TransferProgress) { prog = append(prog, p) })
	if err != nil || used != TransferSnapshot {
		t.Fatalf("used %s, %v; want snapshot", used, err)
	}
	if len(prog) == 0 || prog[0].Method != TransferSnapshot || prog[0].Unit != "bytes" || prog[0].Total <= 0 {
		t.Fatalf("progress %+v: want the archive's bytes first", prog)
	}
	if last := prog[len(prog)-1]; last.Method != TransferSnapshot || last.Bytes < prog[0].Total {
		t.Fatalf("last progress %+v: want every byte of the archive counted", last)
	}
	m.activateFirst(0, 3)
	if err := m.peer(1).EndTransfer(0); err != nil {
		t.Fatal(err)
	}
	m.sameReplicas()
	src, _ := m.peer(1).layout().set(0).Local()
	dst, _ := m.peer(3).layout().set(0).Local()
	if got, want := dst.RecoveryPoint(), src.RecoveryPoint(); !reflect.DeepEqual(got, want) {
		t.Fatalf("target's recovery point %v, want the source's %v", got, want)
	}
	if got, want := dst.Cutoff(), dst.RecoveryPoint(); !reflect.DeepEqual(got, want) {
		t.Fatalf("target's cutoff %v, want its clocks at the restore %v", got, want)
	}
	for _, p := range []uint64{1, 3} {
		if l := transferLeftovers(t, m.peer(p)); len(l) > 0 {
			t.Fatalf("peer %d keeps %v after the transfer", p, l)
		}
	}
	// Peer 2 misses writes; peer 3 recovers it by wal_delta.
	m.setState(0, 2, ReplicaDead)
	for i := uint64(100); i < 150; i++ {
		if _, err := m.write(3, Routing{}, true, vecPoint(i, []float32{4, 5, 6}, 1)); err != nil {
			t.Fatal(err)
		}
	}
	m.setState(0, 2, ReplicaRecovery)
	var first TransferProgress
	used, err = m.peer(3).TransferShard(context.Background(), 0, &memRemote{net: m.net, peer: 2}, TransferWALDelta, func(p TransferProgress) {
		if first.Method == "" {
			first = p
		}
	})
	if err != nil || used != TransferWALDelta {
		t.Fatalf("wal_delta from the restored replica: %s, %v", used, err)
	}
	if first.Total > 60 {
		t.Fatalf("wal_delta from the restored replica sent %d operations, want the 50 missed", first.Total)
	}
	m.setState(0, 2, ReplicaActive)
	m.peer(3).EndTransfer(0)
	if n := m.sameReplicas()[0]; n != 200 {
		t.Fatalf("%d points, want 200", n)
	}
}

// TestSnapshotTransferRefused: a stream that is garbage, truncated,
// corrupt or over the limit is refused; the target's replica holds what
// it held (no incomplete mark), the transfer fails with the proxy
// removed, and no temporary file stays on either side.
func TestSnapshotTransferRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mangle func(b []byte, size int64) ([]byte, int64)
		cap    int64
	}{
		{"garbage", func(b []byte, _ int64) ([]byte, int64) {
			g := bytes.Repeat([]byte("not a tar archive "), 100)
			return g, int64(len(g))
		}, 0},
		{"truncated stream", func(b []byte, size int64) ([]byte, int64) { return b[:len(b)/2], size }, 0},
		// Cut into the manifest (the last 1024 bytes are the tar trailer,
		// whose absence loses nothing).
		{"truncated archive", func(b []byte, _ int64) ([]byte, int64) { return b[:len(b)-1500], int64(len(b) - 1500) }, 0},
		{"flipped byte", func(b []byte, size int64) ([]byte, int64) {
			c := bytes.Clone(b)
			c[len(c)/3] ^= 0x40
			return c, size
		}, 0},
		{"longer than announced", func(b []byte, size int64) ([]byte, int64) { return append(bytes.Clone(b), 0), size }, 0},
		{"over the limit", nil, 4096},
		{"announced over the limit", func(b []byte, _ int64) ([]byte, int64) { return b, 1 << 50 }, 0},
		{"unknown size over the limit", func(b []byte, _ int64) ([]byte, int64) { return b, -1 }, 4096},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemCluster(t, []uint64{1, 2}, 1, 2, 1, `{"vectors":{"size":3,"distance":"Dot"}}`)
			for i := range uint64(100) {
				if _, err := m.write(1, Routing{}, true, vecPoint(i, []float32{1, 2, 3}, 0)); err != nil {
					t.Fatal(err)
				}
			}
			// The target's replica holds an older state: 50 other points.
			m.setState(0, 2, ReplicaDead)
			for i := uint64(100); i < 150; i++ {
				if _, err := m.write(1, Routing{}, true, vecPoint(i, []float32{7, 8, 9}, 1)); err != nil {
					t.Fatal(err)
				}
			}
			m.setState(0, 2, ReplicaRecovery)
			before := m.dump(2, 0)
			target := m.peer(2)
			target.snapshotCap = tc.cap
			m.net.mangleSnapshot = tc.mangle
			used, err := m.peer(1).TransferShard(context.Background(), 0, &memRemote{net: m.net, peer: 2}, TransferSnapshot, nil)
			if err == nil {
				t.Fatalf("the transfer succeeded (%s)", used)
			}
			if point.KindOf(err) != point.KindBadRequest {
				t.Fatalf("refusal %v (kind %v), want a bad request", err, point.KindOf(err))
			}
			t.Logf("refused: %v", err)
			if after := m.dump(2, 0); !reflect.DeepEqual(before, after) {
				t.Fatalf("the target's replica changed: %d points before, %d after", len(before), len(after))
			}
			if ts, err := target.ReplicaInitiateTransfer(context.Background(), 0, false); err != nil || ts.Incomplete {
				t.Fatalf("the target is marked incomplete (%v) after a refused stream", err)
			}
			if p := m.peer(1).layout().set(0).xfer.current(); p != nil {
				t.Fatal("the proxy stays installed after the failed transfer")
			}
			for _, p := range []uint64{1, 2} {
				if l := transferLeftovers(t, m.peer(p)); len(l) > 0 {
					t.Fatalf("peer %d keeps %v after the failure", p, l)
				}
			}
			// The same transfer with a sound stream then works.
			m.net.mangleSnapshot = nil
			target.snapshotCap = 0
			if used, err := m.peer(1).TransferShard(context.Background(), 0, &memRemote{net: m.net, peer: 2}, TransferSnapshot, nil); err != nil || used != TransferSnapshot {
				t.Fatalf("retry: %s, %v", used, err)
			}
			m.setState(0, 2, ReplicaActive)
			m.peer(1).EndTransfer(0)
			if n := m.sameReplicas()[0]; n != 150 {
				t.Fatalf("%d points, want 150", n)
			}
		})
	}
}

// TestTransferLeftoversRemovedAtOpen: a crash in the middle of a
// snapshot transfer leaves its temporary directory; the next start
// removes it.
func TestTransferLeftoversRemovedAtOpen(t *testing.T) {
	c, dir := openCollection(t, `{"vectors":{"size":3,"distance":"Dot"}}`)
	fsys := vfs.OrDefault(c.fsys)
	if err := fsys.MkdirAll(dir+"/"+transferTempPrefix(0)+"abc/shard", 0o755); err != nil {
		t.Fatal(err)
	}
	c = reopen(t, c, dir)
	if l := transferLeftovers(t, c); len(l) > 0 {
		t.Fatalf("%v left after a restart", l)
	}
}
