package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
	"github.com/shoaldb/shoal/internal/testkit"
)

// standaloneSnapshot writes a snapshot of a standalone collection of 2
// shards (replication_factor 3 in its config) holding points [0, n), and
// returns its path.
func standaloneSnapshot(t *testing.T, n int, body string) string {
	t.Helper()
	src := openNode(t, t.TempDir())
	ctx := context.Background()
	if err := src.CreateCollection(ctx, "src", createReq(t, body)); err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		upsertN(t, src, "src", 0, n, "snap")
	}
	d, err := src.CreateSnapshot(ctx, "src")
	if err != nil {
		t.Fatal(err)
	}
	p, err := src.SnapshotFile("src", d.Name)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), d.Name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// localPoints is the number of points of n's local replicas of a
// collection (-1: none).
func localPoints(t *testing.T, n *Node, name string) int {
	t.Helper()
	c, err := n.localCollection(name)
	if err != nil {
		t.Fatal(err)
	}
	total := -1
	for _, rs := range c.Shards() {
		l, _ := rs.Local()
		if l == nil {
			continue
		}
		total = max(total, 0)
		l.View(func(r *shard.Reader) { total += r.Len() })
	}
	return total
}

const snapBody = `{"vectors":{"size":4,"distance":"Dot"},"shard_number":2,"replication_factor":3}`

// TestClusterSnapshotRecoverPriorities: a snapshot recovered on one peer
// of a 3-peer cluster (every peer holds every shard) follows Qdrant's
// priorities: snapshot keeps the restored replicas Active and marks the
// others Dead (automatic recovery then copies from this peer); replica
// (also the default) marks the restored replicas Dead (recovery copies
// into them); no_sync leaves every replica Active. A collection the
// cluster lacks is created from the snapshot's config. A corrupt archive
// and an incompatible one are refused and change nothing.
func TestClusterSnapshotRecoverPriorities(t *testing.T) {
	ctx := context.Background()
	snap := standaloneSnapshot(t, 40, snapBody)
	net := newMemNet()
	peers := startCluster(t, net, 3, nil)
	nodes := nodesOf(peers)
	self := cluster.PeerID(1)

	for i, tc := range []struct {
		priority  string
		selfState cluster.ReplicaState // of peer 1's replicas after
		others    cluster.ReplicaState // of the other peers' replicas
	}{
		{"snapshot", cluster.ReplicaActive, cluster.ReplicaDead},
		{"replica", cluster.ReplicaDead, cluster.ReplicaActive},
		{"", cluster.ReplicaDead, cluster.ReplicaActive},
		{"no_sync", cluster.ReplicaActive, cluster.ReplicaActive},
	} {
		t.Run(fmt.Sprintf("priority=%q", tc.priority), func(t *testing.T) {
			name := fmt.Sprintf("docs%d", i)
			if err := nodes[0].CreateCollection(ctx, name, createReq(t, snapBody)); err != nil {
				t.Fatal(err)
			}
			waitActive(t, name, nodes...)
			upsertN(t, nodes[0], name, 100, 130, "old")
			if err := nodes[0].RecoverSnapshotFile(name, snap, "", tc.priority); err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, "the replica states the priority asks for", 10*time.Second, func() error {
				for _, n := range nodes {
					for s, r := range committed(n, name) {
						for p, st := range r {
							want := tc.others
							if p == self {
								want = tc.selfState
							}
							if st != want {
								return fmt.Errorf("peer %d sees shard %d on %d %s, want %s", n.cl.opts.PeerID, s, p, st, want)
							}
						}
					}
				}
				return nil
			})
			if got := localPoints(t, nodes[0], name); got != 40 {
				t.Fatalf("the restored peer holds %d points, want the snapshot's 40", got)
			}
			for _, n := range nodes[1:] {
				if got := localPoints(t, n, name); got != 30 {
					t.Fatalf("peer %d holds %d points, want its own 30 (nothing copies in-process)", n.cl.opts.PeerID, got)
				}
			}
		})
	}

	t.Run("missing collection", func(t *testing.T) {
		if err := nodes[1].RecoverSnapshotFile("fresh", snap, "", "snapshot"); err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			testkit.Eventually(t, "the created collection", 10*time.Second, func() error {
				r := committed(n, "fresh")
				if len(r) != 2 {
					return fmt.Errorf("peer %d sees %v", n.cl.opts.PeerID, r)
				}
				for s, reps := range r {
					if len(reps) != 3 || reps[2] != cluster.ReplicaActive {
						return fmt.Errorf("shard %d: %v", s, reps)
					}
				}
				return nil
			})
		}
		if got := localPoints(t, nodes[1], "fresh"); got != 40 {
			t.Fatalf("the restored peer holds %d points, want 40", got)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		if err := nodes[0].CreateCollection(ctx, "kept", createReq(t, snapBody)); err != nil {
			t.Fatal(err)
		}
		waitActive(t, "kept", nodes...)
		upsertN(t, nodes[0], "kept", 100, 130, "old")
		before := committed(nodes[0], "kept")
		b, err := os.ReadFile(snap)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0x40
		bad := filepath.Join(t.TempDir(), "bad.snapshot")
		if err := os.WriteFile(bad, b, 0o644); err != nil {
			t.Fatal(err)
		}
		other := standaloneSnapshot(t, 0, `{"vectors":{"size":3,"distance":"Dot"},"shard_number":2}`)
		for _, c := range []struct{ path, want string }{
			{bad, "Invalid snapshot"},
			{other, "Snapshot is not compatible with existing collection: Collection vectors:"},
		} {
			err := nodes[0].RecoverSnapshotFile("kept", c.path, "", "snapshot")
			if point.KindOf(err) != point.KindBadRequest || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("recover %s: %v, want a bad request %q", filepath.Base(c.path), err, c.want)
			}
		}
		if after := committed(nodes[0], "kept"); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("a refused recovery changed the replicas: %v -> %v", before, after)
		}
		for _, n := range nodes {
			if got := localPoints(t, n, "kept"); got != 30 {
				t.Fatalf("peer %d holds %d points after refusals, want 30", n.cl.opts.PeerID, got)
			}
		}
	})
}

// TestClusterShardSnapshotRecover: a shard snapshot recovered on a
// cluster peer (Qdrant's recover_shard_snapshot_impl) restores the local
// replica and settles that shard alone by priority: snapshot marks the
// shard's other replicas Dead, no_sync leaves them Active; the other
// shard is untouched.
func TestClusterShardSnapshotRecover(t *testing.T) {
	ctx := context.Background()
	net := newMemNet()
	nodes := nodesOf(startCluster(t, net, 3, nil))
	for _, tc := range []struct {
		priority string
		others   cluster.ReplicaState
	}{
		{"snapshot", cluster.ReplicaDead},
		{"no_sync", cluster.ReplicaActive},
	} {
		t.Run(tc.priority, func(t *testing.T) {
			name := "shards_" + tc.priority
			if err := nodes[0].CreateCollection(ctx, name, createReq(t, snapBody)); err != nil {
				t.Fatal(err)
			}
			waitActive(t, name, nodes...)
			upsertN(t, nodes[0], name, 0, 40, "first")
			d, err := nodes[0].CreateShardSnapshot(ctx, name, 0)
			if err != nil {
				t.Fatal(err)
			}
			path, err := nodes[0].ShardSnapshotFile(name, 0, d.Name)
			if err != nil {
				t.Fatal(err)
			}
			c, err := nodes[0].localCollection(name)
			if err != nil {
				t.Fatal(err)
			}
			shardLen := func() int {
				for _, rs := range c.Shards() {
					if rs.ID() == 0 {
						l, _ := rs.Local()
						n := 0
						l.View(func(r *shard.Reader) { n = r.Len() })
						return n
					}
				}
				return -1
			}
			want := shardLen()
			upsertN(t, nodes[0], name, 100, 160, "later")
			if err := nodes[0].RecoverShardSnapshotFile(name, 0, path, "", tc.priority); err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, "the replica states the priority asks for", 10*time.Second, func() error {
				for _, n := range nodes {
					for s, r := range committed(n, name) {
						for p, st := range r {
							want := cluster.ReplicaActive
							if s == 0 && p != 1 {
								want = tc.others
							}
							if st != want {
								return fmt.Errorf("peer %d sees shard %d on %d %s, want %s", n.cl.opts.PeerID, s, p, st, want)
							}
						}
					}
				}
				return nil
			})
			if got := shardLen(); got != want {
				t.Fatalf("the restored shard holds %d points, want the snapshot's %d", got, want)
			}
		})
	}
}
