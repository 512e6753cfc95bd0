package collection

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
)

// InitiateTransfer makes memRemote a TransferRemote.
func (r *memRemote) InitiateTransfer(ctx context.Context, coll string, s ShardID, from uint64, reset bool) (TargetState, error) {
	c, err := r.gate(ctx, true)
	if err != nil {
		return TargetState{}, err
	}
	ts, err := c.ReplicaInitiateTransfer(ctx, s, reset)
	return ts, overWire(err)
}

// TransferUpdates makes memRemote a TransferRemote: the batch goes
// through its encoding, as over P2P.
func (r *memRemote) TransferUpdates(ctx context.Context, coll string, s ShardID, from uint64, b TransferBatch) (uint64, error) {
	c, err := r.gate(ctx, true)
	if err != nil {
		return 0, err
	}
	wire := TransferBatch{Wait: b.Wait, Cutoff: b.Cutoff}
	for _, u := range b.Updates {
		op, err := cloneOp(u.Op)
		if err != nil {
			return 0, err
		}
		wire.Updates = append(wire.Updates, TaggedUpdate{Op: op, Tag: u.Tag})
	}
	id, err := c.ReplicaTransferUpdates(ctx, s, wire)
	return id, overWire(err)
}

// writers runs n goroutines that upsert (and now and then delete) points
// of ids [0, span) through random peers until stop is closed; it returns
// how many writes were acknowledged. Each point has one writer, which
// waits for each write: concurrent writes of one point, unordered, may
// leave replicas apart, as in Qdrant, when the ordering leader changes.
// activateFirst commits peer's replica of s Active, telling peer first.
func (m *memCluster) activateFirst(s ShardID, peer uint64) {
	m.mu.Lock()
	m.states[s][peer] = ReplicaActive
	m.mu.Unlock()
	if err := m.peer(peer).SetTopology(m.topology(peer)); err != nil {
		m.t.Error(err)
	}
	m.commit()
}

var medium = Routing{Ordering: OrderingMedium}

func (m *memCluster) writers(t *testing.T, seed uint64, n int, span uint64, stop <-chan struct{}) func() int64 {
	var wg sync.WaitGroup
	var acked atomic.Int64
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := m.peers[rng.IntN(len(m.peers))]
				id := rng.Uint64N(span/uint64(n))*uint64(n) + uint64(w) // each point has one writer
				var err error
				if rng.IntN(10) == 0 {
					_, err = m.peer(p).Update(WithRouting(context.Background(), medium), &ops.Operation{Kind: ops.Delete, IDs: []point.ID{point.NumID(id)}}, true)
				} else {
					_, err = m.write(p, medium, true, vecPoint(id, []float32{float32(w), float32(i), 1}, i))
				}
				if err == nil {
					acked.Add(1)
				} else {
					t.Logf("writer %d: point %d: %v", w, id, err)
				}
			}
		}()
	}
	return func() int64 { wg.Wait(); return acked.Load() }
}

func TestTransferUnderWrites(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method TransferMethod
		// dead: the target holds a replica that missed writes (Dead),
		// recovered in state Recovery; else a new replica, Partial.
		dead bool
		want TransferMethod
	}{
		{"stream_records new replica", TransferStreamRecords, false, TransferStreamRecords},
		{"stream_records dead replica", TransferStreamRecords, true, TransferStreamRecords},
		{"wal_delta dead replica", TransferWALDelta, true, TransferWALDelta},
		{"snapshot new replica", TransferSnapshot, false, TransferSnapshot},
		{"snapshot dead replica", TransferSnapshot, true, TransferSnapshot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed := rand.Uint64()
			t.Logf("seed %d", seed)
			rf := 2
			if tc.dead {
				rf = 3 // peer 3 holds a replica from the start
			}
			m := newMemCluster(t, []uint64{1, 2, 3}, 1, rf, 1, `{"vectors":{"size":3,"distance":"Dot"}}`)
			m.net.jitter = 200 * time.Microsecond
			for i := range uint64(300) {
				if _, err := m.write(1, Routing{}, true, vecPoint(i, []float32{1, 2, 3}, 0)); err != nil {
					t.Fatal(err)
				}
			}
			target := ReplicaPartial
			if tc.method != TransferStreamRecords {
				target = ReplicaRecovery
			}
			if tc.dead {
				// Peer 3's replica misses writes.
				m.setState(0, 3, ReplicaDead)
				for i := uint64(20); i < 400; i++ {
					if _, err := m.write(2, Routing{}, true, vecPoint(i, []float32{7, 8, 9}, 2)); err != nil {
						t.Fatal(err)
					}
				}
			}
			m.setState(0, 3, target)
			stop := make(chan struct{})
			wait := m.writers(t, seed, 4, 500, stop)
			var first, last TransferProgress
			used, err := m.peer(1).TransferShard(context.Background(), 0, &memRemote{net: m.net, peer: 3}, tc.method, func(p TransferProgress) {
				if first.Method == "" {
					first = p
				}
				last = p
			})
			if err != nil {
				t.Fatal(err)
			}
			if used != tc.want {
				t.Fatalf("method used %s, want %s", used, tc.want)
			}
			// Writes go on across the switch to Active, as in a cluster.
			// The target learns it is Active first: a coordinator that
			// sent it a plain update while it still was in Recovery would
			// disable it (and report it Dead, to be recovered again).
			// The source learns the end was committed first (the node's
			// driver does so right after FinishTransfer commits).
			m.peer(1).FinishedTransfer(0)
			m.activateFirst(0, 3)
			// The proxy is removed once no write that started before the
			// switch is in flight (the node waits for every peer to follow
			// the finish, then a grace): a coordinator that still left the
			// target out reaches it only through the proxy.
			close(stop)
			acked := wait()
			if err := m.peer(1).EndTransfer(0); err != nil {
				t.Fatalf("a forward failed: %v", err)
			}
			if r := m.reported(); len(r) > 0 {
				t.Fatalf("replicas reported failed: %+v", r)
			}
			counts := m.sameReplicas()
			t.Logf("%d writes acknowledged during the transfer; progress %+v; %d points", acked, last, counts[0])
			if acked == 0 {
				t.Fatal("no write was acknowledged during the transfer")
			}
			// The WAL held 680 operations when the transfer started, of
			// which the target missed 380 (plus the writers' first ones).
			if tc.method == TransferWALDelta && first.Total >= 600 {
				t.Fatalf("wal_delta started with %d operations to send: not a delta", first.Total)
			}
		})
	}
}

func TestWALDeltaFallsBack(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2}, 1, 2, 1, `{"vectors":{"size":3,"distance":"Dot"}}`)
	for i := range uint64(20) {
		if _, err := m.write(1, Routing{}, true, vecPoint(i, []float32{1, 2, 3}, 0)); err != nil {
			t.Fatal(err)
		}
	}
	// Peer 2's replica holds an update peer 1's does not: its recovery
	// point is ahead, the WAL cannot serve it.
	sh, _ := m.peer(2).layout().set(0).Local()
	if _, err := sh.UpdateWithClock(context.Background(), &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{vecPoint(99, []float32{1, 1, 1}, 9)}}, true, ops.ClockTag{PeerID: 7, ClockID: 0, Tick: 5}); err != nil {
		t.Fatal(err)
	}
	m.setState(0, 2, ReplicaRecovery)
	used, err := m.peer(1).TransferShard(context.Background(), 0, &memRemote{net: m.net, peer: 2}, TransferWALDelta, nil)
	if err != nil {
		t.Fatal(err)
	}
	if used != TransferStreamRecords {
		t.Fatalf("method used %s, want the fallback stream_records", used)
	}
	m.setState(0, 2, ReplicaActive)
	m.peer(1).EndTransfer(0)
	if n := m.sameReplicas()[0]; n != 20 {
		t.Fatalf("%d points after the transfer, want 20 (the target's extra point is gone)", n)
	}
}

func TestTransferRefusals(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2}, 1, 2, 1, `{"vectors":{"size":3,"distance":"Dot"}}`)
	// The target's replica is Active: it is not receiving a transfer.
	if _, err := m.peer(1).TransferShard(context.Background(), 0, &memRemote{net: m.net, peer: 2}, TransferStreamRecords, nil); err == nil || point.KindOf(err) != point.KindBadRequest {
		t.Fatalf("transfer to an Active replica: %v, want a bad request", err)
	}
	m.peer(1).EndTransfer(0)
	if _, err := m.peer(1).TransferShard(context.Background(), 5, &memRemote{net: m.net, peer: 2}, TransferStreamRecords, nil); point.KindOf(err) != point.KindNotFound {
		t.Fatalf("transfer of a missing shard: %v, want not found", err)
	}
}

// TestLaggingTargetNotReported: a coordinator that sees a replica
// Partial (consensus started a transfer to it) while the replica's own
// peer has not applied that yet (it still is Dead there, and refuses)
// does not report it failed: that would kill the transfer before it
// starts. The source's proxy forwards what it missed.
func TestLaggingTargetNotReported(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2}, 1, 2, 1, `{"vectors":{"size":3,"distance":"Dot"}}`)
	m.setState(0, 2, ReplicaDead)
	// Peer 1 learns of the transfer; peer 2 not yet.
	m.mu.Lock()
	m.states[0][2] = ReplicaPartial
	m.mu.Unlock()
	if err := m.peer(1).SetTopology(m.topology(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := m.write(1, Routing{}, true, vecPoint(1, []float32{1, 2, 3}, 0)); err != nil {
		t.Fatal(err)
	}
	if r := m.reported(); len(r) > 0 {
		t.Fatalf("the lagging target was reported: %+v", r)
	}
	// A target that cannot be reached is reported.
	m.net.setDown(2, true)
	if _, err := m.write(1, Routing{}, true, vecPoint(2, []float32{1, 2, 3}, 0)); err != nil {
		t.Fatal(err)
	}
	if r := m.reported(); len(r) != 1 || r[0].peer != 2 {
		t.Fatalf("reports %+v, want peer 2 reported once", r)
	}
}

// TestIncompleteTargetNoWALDelta: a replica emptied for a stream_records
// transfer that did not finish (aborted, Dead) takes plain updates
// meanwhile, so its recovery point says nothing of what it holds: a
// later wal_delta must fall back to stream_records, else it would find
// nothing to send and leave it empty. Once a transfer finishes and the
// replica is Active, wal_delta works from it again.
func TestIncompleteTargetNoWALDelta(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2}, 1, 1, 1, `{"vectors":{"size":3,"distance":"Dot"}}`)
	for i := range uint64(300) {
		if _, err := m.write(1, Routing{}, true, vecPoint(i, []float32{1, 2, 3}, 0)); err != nil {
			t.Fatal(err)
		}
	}
	m.setState(0, 2, ReplicaPartial)
	to := &memRemote{net: m.net, peer: 2}
	// The stream starts (the target is emptied), a write reaches it
	// directly, and the transfer dies before any batch.
	if _, err := to.InitiateTransfer(context.Background(), "c", 0, 1, true); err != nil {
		t.Fatal(err)
	}
	if _, err := m.write(1, Routing{}, true, vecPoint(1000, []float32{1, 2, 3}, 1)); err != nil {
		t.Fatal(err)
	}
	m.setState(0, 2, ReplicaDead)
	m.setState(0, 2, ReplicaRecovery)
	used, err := m.peer(1).TransferShard(context.Background(), 0, to, TransferWALDelta, nil)
	if err != nil {
		t.Fatal(err)
	}
	if used != TransferStreamRecords {
		t.Fatalf("method used %s, want the fallback stream_records", used)
	}
	m.setState(0, 2, ReplicaActive)
	if err := m.peer(1).EndTransfer(0); err != nil {
		t.Fatal(err)
	}
	if n := m.sameReplicas()[0]; n != 301 {
		t.Fatalf("%d points, want 301", n)
	}
	// Complete now: a later recovery may use wal_delta.
	m.setState(0, 2, ReplicaRecovery)
	used, err = m.peer(1).TransferShard(context.Background(), 0, to, TransferWALDelta, nil)
	if err != nil || used != TransferWALDelta {
		t.Fatalf("second recovery: %s, %v; want wal_delta", used, err)
	}
	m.setState(0, 2, ReplicaActive)
	m.peer(1).EndTransfer(0)
	m.sameReplicas()
}

// TestPartialReplicaIncomplete: a new replica made Partial for a
// stream_records transfer takes updates before any record: if the
// transfer dies before it even empties it, its recovery point still says
// nothing of what it holds, and a recovery by wal_delta falls back.
func TestPartialReplicaIncomplete(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2}, 1, 1, 1, `{"vectors":{"size":3,"distance":"Dot"}}`)
	for i := range uint64(100) {
		if _, err := m.write(1, Routing{}, true, vecPoint(i, []float32{1, 2, 3}, 0)); err != nil {
			t.Fatal(err)
		}
	}
	m.setState(0, 2, ReplicaPartial)
	if _, err := m.write(1, Routing{}, true, vecPoint(1000, []float32{1, 2, 3}, 1)); err != nil {
		t.Fatal(err)
	}
	m.setState(0, 2, ReplicaDead)
	m.setState(0, 2, ReplicaRecovery)
	used, err := m.peer(1).TransferShard(context.Background(), 0, &memRemote{net: m.net, peer: 2}, TransferWALDelta, nil)
	if err != nil || used != TransferStreamRecords {
		t.Fatalf("recovery: %s, %v; want the fallback stream_records", used, err)
	}
	m.setState(0, 2, ReplicaActive)
	m.peer(1).EndTransfer(0)
	if n := m.sameReplicas()[0]; n != 101 {
		t.Fatalf("%d points, want 101", n)
	}
}

// TestStreamRecordsSetsCutoff: a replica filled by stream_records holds
// the data of the source's recovery point without the tagged operations
// (records move no clock), so its recovery point alone would understate
// what it holds, and a wal_delta from it would find nothing to send to a
// replica as far behind as it was. The end of the stream raises its
// cutoff (and clocks) to the source's recovery point: a wal_delta from it
// to a replica below that falls back to stream_records. Without the
// cutoff peer 3 ends 100 points short.
func TestStreamRecordsSetsCutoff(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2, 3}, 1, 3, 1, `{"vectors":{"size":3,"distance":"Dot"}}`)
	for i := range uint64(50) {
		if _, err := m.write(1, Routing{}, true, vecPoint(i, []float32{1, 2, 3}, 0)); err != nil {
			t.Fatal(err)
		}
	}
	m.setState(0, 2, ReplicaDead)
	m.setState(0, 3, ReplicaDead)
	for i := uint64(50); i < 150; i++ {
		if _, err := m.write(1, Routing{}, true, vecPoint(i, []float32{1, 2, 3}, 0)); err != nil {
			t.Fatal(err)
		}
	}
	m.setState(0, 2, ReplicaPartial)
	used, err := m.peer(1).TransferShard(context.Background(), 0, &memRemote{net: m.net, peer: 2}, TransferStreamRecords, nil)
	if err != nil || used != TransferStreamRecords {
		t.Fatalf("stream_records to peer 2: %s, %v", used, err)
	}
	m.peer(1).FinishedTransfer(0)
	m.setState(0, 2, ReplicaActive)
	if err := m.peer(1).EndTransfer(0); err != nil {
		t.Fatal(err)
	}
	l2, _ := m.peer(2).layout().set(0).Local()
	l1, _ := m.peer(1).layout().set(0).Local()
	if cut, rp := l2.Cutoff(), l1.RecoveryPoint(); fmt.Sprint(cut) != fmt.Sprint(rp) {
		t.Fatalf("peer 2's cutoff %v, want the source's recovery point %v", cut, rp)
	}
	m.setState(0, 3, ReplicaRecovery)
	used, err = m.peer(2).TransferShard(context.Background(), 0, &memRemote{net: m.net, peer: 3}, TransferWALDelta, nil)
	if err != nil {
		t.Fatal(err)
	}
	if used != TransferStreamRecords {
		t.Fatalf("wal_delta from a replica filled by records to one below its cutoff used %s, want the fallback stream_records", used)
	}
	m.peer(2).FinishedTransfer(0)
	m.setState(0, 3, ReplicaActive)
	if err := m.peer(2).EndTransfer(0); err != nil {
		t.Fatal(err)
	}
	if n := m.sameReplicas()[0]; n != 150 {
		t.Fatalf("%d points, want 150", n)
	}
	// Peer 3, filled by records from peer 2 (which holds peer 1's updates
	// under its cutoff, not its clocks), holds them too and says so.
	l3, _ := m.peer(3).layout().set(0).Local()
	if cut, rp := l3.Cutoff(), l1.RecoveryPoint(); fmt.Sprint(cut) != fmt.Sprint(rp) {
		t.Fatalf("peer 3's cutoff %v, want what peer 2 holds, peer 1's recovery point %v", cut, rp)
	}
}

// TestForcedUpdateOnlyByTransfer: a forced update (one that skips the
// clock check) is refused through the plain update entry point: it comes
// only in a transfer's batch, which the node checks against its cluster
// state.
func TestForcedUpdateOnlyByTransfer(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2}, 1, 2, 1, `{"vectors":{"size":3,"distance":"Dot"}}`)
	m.setState(0, 2, ReplicaPartial)
	tag := ops.ClockTag{PeerID: 1, Force: true}
	up := func() *ops.Operation {
		return &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{vecPoint(1, []float32{1, 2, 3}, 0)}}
	}
	_, err := m.peer(2).ReplicaUpdate(context.Background(), 0, up(), RemoteUpdate{Wait: true, Tag: &tag})
	if point.KindOf(err) != point.KindBadRequest {
		t.Fatalf("forced plain update: %v, want a bad request", err)
	}
	if _, err := m.peer(2).ReplicaTransferUpdates(context.Background(), 0, TransferBatch{Wait: true, Updates: []TaggedUpdate{{Op: up(), Tag: tag}}}); err != nil {
		t.Fatalf("the same update in a transfer batch: %v", err)
	}
	if _, err := m.peer(2).ReplicaTransferUpdates(context.Background(), 0, TransferBatch{Updates: make([]TaggedUpdate, MaxTransferBatch+1)}); point.KindOf(err) != point.KindBadInput {
		t.Fatalf("oversized batch: %v, want bad input", err)
	}
}

// TestLeadOnlyByOwnView: a coordinator forwards an update to the peer it
// sees as the medium ordering leader; at the end of a transfer that peer
// may still see its own replica receiving (Recovery takes no plain
// update). It waits for its view to make it the leader, and only then
// leads, its own replica included; a peer that never becomes the leader
// refuses the update as not applied. Leading at once would leave its own
// replica without the update for good.
func TestLeadOnlyByOwnView(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2}, 1, 2, 1, `{"vectors":{"size":3,"distance":"Dot"}}`)
	rs2 := m.peer(2).layout().set(0)
	rs2.SetLocalState(ReplicaRecovery)
	up := func(id uint64) *ops.Operation {
		return &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{vecPoint(id, []float32{1, 2, 3}, 0)}}
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		rs2.SetLocalState(ReplicaActive)
	}()
	if _, err := m.peer(2).ReplicaUpdate(context.Background(), 0, up(1), RemoteUpdate{Wait: true, Ordering: OrderingMedium}); err != nil {
		t.Fatalf("lead once the view caught up: %v", err)
	}
	l2, _ := rs2.Local()
	var has bool
	l2.View(func(r *shard.Reader) { has = r.Has(point.NumID(1)) })
	if !has {
		t.Fatal("the leader's own replica misses the update it led")
	}
	rs2.SetLocalState(ReplicaDead)
	if _, err := m.peer(2).ReplicaUpdate(context.Background(), 0, up(2), RemoteUpdate{Wait: true, Ordering: OrderingMedium}); point.KindOf(err) != point.KindUnavailable {
		t.Fatalf("lead by a peer that is not the leader by its view: %v, want unavailable (not applied)", err)
	}
}

// TestWALDeltaEmptyTarget: a target that has seen no tagged update (a new
// replica) gets the whole WAL, from its first operation: the updates
// logged before the collection was distributed carry no tag, and a start
// found from the clocks alone would skip them (the target would end
// without those points).
func TestWALDeltaEmptyTarget(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2}, 1, 1, 1, `{"vectors":{"size":3,"distance":"Dot"}}`)
	local, _ := m.peer(1).layout().set(0).Local()
	for i := range uint64(10) {
		op := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{vecPoint(1000+i, []float32{1, 2, 3}, 0)}}
		if _, err := local.Update(context.Background(), op, true); err != nil {
			t.Fatal(err)
		}
	}
	for i := range uint64(5) {
		if _, err := m.write(1, Routing{}, true, vecPoint(i, []float32{1, 2, 3}, 0)); err != nil {
			t.Fatal(err)
		}
	}
	first, _ := local.WALRange()
	start, err := walDeltaStart(local, nil)
	if err != nil || start != first {
		t.Fatalf("wal_delta start for an empty recovery point: %d, %v; want the WAL's first operation %d", start, err, first)
	}
	m.setState(0, 2, ReplicaRecovery)
	used, err := m.peer(1).TransferShard(context.Background(), 0, &memRemote{net: m.net, peer: 2}, TransferWALDelta, nil)
	if err != nil || used != TransferWALDelta {
		t.Fatalf("wal_delta to an empty replica: %s, %v", used, err)
	}
	m.peer(1).FinishedTransfer(0)
	m.setState(0, 2, ReplicaActive)
	if err := m.peer(1).EndTransfer(0); err != nil {
		t.Fatal(err)
	}
	if n := m.sameReplicas()[0]; n != 15 {
		t.Fatalf("%d points, want 15", n)
	}
}

// TestTransferBatchNotForwardedBack: a replica receiving a transfer
// applies its batches itself, even while a proxy of an earlier transfer
// from it (to the peer now sending) is still installed: forwarding them
// back to that source, which forwards its own updates here under its
// proxy's lock, would leave both peers waiting for each other.
func TestTransferBatchNotForwardedBack(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2}, 1, 2, 1, `{"vectors":{"size":3,"distance":"Dot"}}`)
	rs2 := m.peer(2).layout().set(0)
	to, ok := rs2.remote(1).(TransferRemote)
	if !ok {
		t.Fatal("peer 1 is no TransferRemote")
	}
	// Peer 2 sent shard 0 to peer 1 (finished, its driver still in the
	// switch-over), then its own replica went Dead and receives from 1.
	p := &shardProxy{coll: "c", shard: 0, from: 2, to: to, forward: true, finished: true}
	if err := rs2.xfer.install(p); err != nil {
		t.Fatal(err)
	}
	defer rs2.xfer.remove(p)
	m.setState(0, 2, ReplicaRecovery)
	before, _ := m.net.counts(1)
	op := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{vecPoint(1, []float32{1, 2, 3}, 0)}}
	tag := ops.ClockTag{PeerID: 1, ClockID: 0, Tick: 1}
	if _, err := m.peer(2).ReplicaTransferUpdates(context.Background(), 0, TransferBatch{Wait: true, Updates: []TaggedUpdate{{Op: op, Tag: tag}}}); err != nil {
		t.Fatalf("transfer batch: %v", err)
	}
	if after, _ := m.net.counts(1); after != before {
		t.Fatalf("the batch went back to its source: %d updates reached peer 1, want 0", after-before)
	}
	if recs := m.dump(2, 0); len(recs) != 1 {
		t.Fatalf("the receiving replica holds %d points, want 1", len(recs))
	}
}

// TestFinishedForwardBounded: once a transfer finished, a forward to a
// target that does not answer gives up after finishedForwardTimeout, not
// forwardTimeout: the update is applied here and answered, and the
// proxy's lock (which every local update of the shard and the next
// transfer of it wait on) is free again.
func TestFinishedForwardBounded(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2}, 1, 2, 1, `{"vectors":{"size":3,"distance":"Dot"}}`)
	rs2 := m.peer(2).layout().set(0)
	to := rs2.remote(1).(TransferRemote)
	p := &shardProxy{coll: "c", shard: 0, from: 2, to: to, forward: true, finished: true}
	if err := rs2.xfer.install(p); err != nil {
		t.Fatal(err)
	}
	defer rs2.xfer.remove(p)
	m.net.mu.Lock()
	m.net.delay[1] = time.Hour // peer 1 takes the call and never answers
	m.net.mu.Unlock()
	op := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{vecPoint(1, []float32{1, 2, 3}, 0)}}
	tag := ops.ClockTag{PeerID: 2, Tick: 1}
	start := time.Now()
	if _, err := m.peer(2).ReplicaUpdate(context.Background(), 0, op, RemoteUpdate{Wait: true, Tag: &tag}); err != nil {
		t.Fatalf("update: %v", err)
	}
	if took := time.Since(start); took >= forwardTimeout/2 {
		t.Fatalf("the update waited %v for a finished transfer's forward", took)
	}
	if p.failure() == nil {
		t.Fatal("the failed forward is not recorded")
	}
}
