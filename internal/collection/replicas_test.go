package collection

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

const dotBody = `{"vectors":{"size":4,"distance":"Dot"}}`

func randVec(r *rand.Rand) []float32 {
	v := make([]float32, 4)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}

// TestReplicasWritesReadEverywhere: 3 peers, 3 shards of 2 replicas;
// points written through each peer are read back through every other
// (retrieve, count, scroll), a search from any peer equals brute force
// over all points, and every replica of a shard holds the same points.
func TestReplicasWritesReadEverywhere(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 1))
	peers := []uint64{1, 2, 3}
	m := newMemCluster(t, peers, 3, 2, 1, dotBody)
	all := map[point.ID][]float32{}
	for i, p := range peers {
		var pts []ops.PointStruct
		for j := range 40 {
			id := uint64(i*100 + j)
			v := randVec(r)
			pts = append(pts, vecPoint(id, v, int(p)))
			all[point.NumID(id)] = v
		}
		if _, err := m.write(p, Routing{}, true, pts...); err != nil {
			t.Fatalf("write through peer %d: %v", p, err)
		}
	}
	ids := make([]point.ID, 0, len(all))
	for id := range all {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, point.ID.Compare)
	q := randVec(r)
	type hit struct {
		id    point.ID
		score float32
	}
	var brute []hit
	for id, v := range all {
		var s float32
		for i := range v {
			s += v[i] * q[i]
		}
		brute = append(brute, hit{id, s})
	}
	slices.SortFunc(brute, func(a, b hit) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return a.id.Compare(b.id)
	})
	for _, p := range peers {
		c := m.peer(p)
		recs, err := c.Retrieve(bg, ids, ops.PayloadSelector{Enable: true}, ops.VectorSelector{})
		if err != nil || len(recs) != len(ids) {
			t.Fatalf("peer %d: retrieve %d of %d: %v", p, len(recs), len(ids), err)
		}
		n, err := c.Count(bg, ops.CountRequest{Exact: true})
		if err != nil || n != len(ids) {
			t.Fatalf("peer %d: count %d, want %d: %v", p, n, len(ids), err)
		}
		page, next, err := c.Scroll(bg, ops.ScrollRequest{Limit: 50})
		if err != nil || len(page) != 50 || next == nil || *next != ids[50] {
			t.Fatalf("peer %d: scroll page of %d, next %v: %v", p, len(page), next, err)
		}
		for i, rec := range page {
			if rec.ID != ids[i] {
				t.Fatalf("peer %d: scroll[%d] = %v, want %v", p, i, rec.ID, ids[i])
			}
		}
		hits, err := c.Search(bg, ops.SearchRequest{Vector: q, Limit: 10, Offset: 3, Params: ops.SearchParams{Exact: true}})
		if err != nil || len(hits) != 10 {
			t.Fatalf("peer %d: search %d hits: %v", p, len(hits), err)
		}
		for i, h := range hits {
			if h.ID != brute[i+3].id {
				t.Fatalf("peer %d: hit %d = %v (%v), brute force %v (%v)", p, i, h.ID, h.Score, brute[i+3].id, brute[i+3].score)
			}
		}
	}
	counts := m.sameReplicas()
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != len(ids) {
		t.Fatalf("shards hold %d points, want %d", total, len(ids))
	}
	for _, p := range peers {
		if info, err := m.peer(p).Info(); err != nil || info.PointsCount != uint64(len(ids)) {
			t.Fatalf("peer %d: info counts %d points, want %d (every shard): %v", p, info.PointsCount, len(ids), err)
		}
	}
}

// TestReplicasConcurrentWritersConverge: writers on every peer overwrite
// the same ids at once, the network delaying each call up to 5 ms; with
// medium and strong ordering every replica of every shard ends identical
// (points, vectors, payloads). (With weak ordering, not tested, the
// replicas of this test diverge in about two runs of three.)
func TestReplicasConcurrentWritersConverge(t *testing.T) {
	for _, o := range []WriteOrdering{OrderingMedium, OrderingStrong} {
		t.Run(o.String(), func(t *testing.T) {
			seed := time.Now().UnixNano()
			t.Logf("seed %d", seed)
			peers := []uint64{1, 2, 3}
			m := newMemCluster(t, peers, 3, 2, 1, dotBody)
			m.net.jitter = 5 * time.Millisecond // replicas hear the leaders in any order
			var wg sync.WaitGroup
			errs := make(chan error, 3*30)
			for _, p := range peers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(seed), p))
					for round := range 30 {
						var pts []ops.PointStruct
						for id := range uint64(12) {
							pts = append(pts, vecPoint(id, randVec(r), int(p)*1000+round))
						}
						if _, err := m.write(p, Routing{Ordering: o}, round%2 == 0, pts...); err != nil {
							errs <- fmt.Errorf("peer %d round %d: %w", p, round, err)
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			// The last writes went without wait: the replicas apply what
			// they logged before the dump reads them.
			for _, p := range peers {
				for _, sh := range m.peer(p).locals() {
					if _, err := sh.Update(bg, &ops.Operation{Kind: ops.Delete, IDs: []point.ID{point.NumID(1 << 40)}}, true); err != nil {
						t.Fatal(err)
					}
				}
			}
			counts := m.sameReplicas()
			total := 0
			for _, n := range counts {
				total += n
			}
			if total != 12 {
				t.Fatalf("%d points, want 12", total)
			}
		})
	}
}

// TestReplicasLeaderChoice: weak leads where the update arrives, medium
// at the highest Active replica not disabled here, strong at the highest
// replica whatever its state; with the strong leader down strong fails
// (outcome unknown) while medium succeeds.
func TestReplicasLeaderChoice(t *testing.T) {
	peers := []uint64{1, 2, 3}
	m := newMemCluster(t, peers, 1, 3, 1, dotBody)
	rs := m.peer(1).layout().set(0)
	for _, tc := range []struct {
		o    WriteOrdering
		want uint64
	}{{OrderingWeak, 1}, {OrderingMedium, 3}, {OrderingStrong, 3}} {
		if got, ok := rs.leader(1, tc.o); !ok || got != tc.want {
			t.Errorf("%s: leader %d, want %d", tc.o, got, tc.want)
		}
	}
	// A medium update through peer 1 is applied by peer 3, the leader:
	// peer 3 gets it untagged and then fans it out.
	before, _ := m.net.counts(3)
	if _, err := m.write(1, Routing{Ordering: OrderingMedium}, true, vecPoint(1, []float32{1, 0, 0, 0}, 1)); err != nil {
		t.Fatal(err)
	}
	if after, _ := m.net.counts(3); after != before+1 {
		t.Fatalf("peer 3 got %d update calls, want 1 (the forward)", after-before)
	}
	m.net.setDown(3, true)
	m.setState(0, 3, ReplicaDead)
	if got, _ := rs.leader(1, OrderingMedium); got != 2 {
		t.Fatalf("medium leader with 3 dead: %d, want 2", got)
	}
	_, err := m.write(1, Routing{Ordering: OrderingStrong}, true, vecPoint(2, []float32{1, 0, 0, 0}, 1))
	if !errors.Is(err, ErrOutcomeUnknown) || !strings.Contains(err.Error(), "outcome is unknown") || point.KindOf(err) != point.KindInternal {
		t.Fatalf("strong with its leader down: %v, want an outcome-unknown error", err)
	}
	if _, err := m.write(1, Routing{Ordering: OrderingMedium}, true, vecPoint(3, []float32{1, 0, 0, 0}, 1)); err != nil {
		t.Fatalf("medium with peer 3 down: %v", err)
	}
	// The leader answers that the outcome is unknown (too few replicas
	// applied it): over the wire the answer keeps its marker.
	m3 := newMemCluster(t, peers, 1, 3, 3, dotBody)
	m3.net.setDown(2, true)
	_, err = m3.write(1, Routing{Ordering: OrderingStrong}, true, vecPoint(2, []float32{1, 0, 0, 0}, 1))
	if !errors.Is(err, ErrOutcomeUnknown) || point.KindOf(err) != point.KindInternal || !strings.Contains(err.Error(), "peer 2") {
		t.Fatalf("strong, leader 3 short of replicas: %v", err)
	}
	// Without consensus knowing: a medium leader that does not answer
	// fails the update (outcome unknown), is disabled here and
	// reported once; the next medium update goes to the next leader.
	m2 := newMemCluster(t, peers, 1, 3, 1, dotBody)
	m2.deadOnReport = true
	m2.net.setDown(3, true)
	_, err = m2.write(1, Routing{Ordering: OrderingMedium}, true, vecPoint(4, []float32{1, 0, 0, 0}, 1))
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("medium with an unknown dead leader: %v", err)
	}
	if _, err := m2.write(1, Routing{Ordering: OrderingMedium}, true, vecPoint(5, []float32{1, 0, 0, 0}, 1)); err != nil {
		t.Fatalf("medium after the leader was disabled: %v", err)
	}
	// Peer 1 reported it once; peer 2, leading the second update, may
	// have met it before consensus marked it Dead and reported it too.
	var by1 []report
	for _, r := range m2.reported() {
		if r.by == 1 {
			by1 = append(by1, r)
		}
	}
	if len(by1) != 1 || by1[0] != (report{1, 0, 3, ReplicaActive}) {
		t.Fatalf("peer 1's reports %+v, want peer 3 once, from Active", by1)
	}
}

// TestReplicasWriteConsistency: wcf=2 with a replica down is an
// outcome-unknown error that reports the replica behind; a refusal by
// every replica is that refusal; with wcf=1 the failed replica is
// reported once (with its state) and the update succeeds once consensus
// deactivates it, with or without wait; a disabled replica still Active
// fails every update led here until consensus changes or keeps its state.
func TestReplicasWriteConsistency(t *testing.T) {
	peers := []uint64{1, 2, 3}
	p := func(id uint64) ops.PointStruct { return vecPoint(id, []float32{0, 1, 0, 0}, 0) }

	t.Run("wcf 2, a replica down", func(t *testing.T) {
		m := newMemCluster(t, peers, 1, 2, 2, dotBody) // shard 0 on peers 1, 2
		m.net.setDown(2, true)
		_, err := m.write(1, Routing{}, true, p(1))
		if !errors.Is(err, ErrOutcomeUnknown) || !strings.Contains(err.Error(), "outcome is unknown") || !strings.Contains(err.Error(), "peer 2") {
			t.Fatalf("got %v, want an outcome-unknown error naming peer 2", err)
		}
		if point.KindOf(err) != point.KindInternal {
			t.Fatalf("kind %v", point.KindOf(err))
		}
		// Peer 1 applied it, so the replicas differ: peer 2 is reported
		// (beyond Qdrant, which reports only with enough successes).
		if got := m.reported(); len(got) != 1 || got[0] != (report{1, 0, 2, ReplicaActive}) {
			t.Fatalf("reports %+v, want peer 2 once from Active", got)
		}
	})
	t.Run("wcf 2, nothing applied, nothing reported", func(t *testing.T) {
		m := newMemCluster(t, peers, 1, 2, 2, dotBody) // shard 0 on peers 1, 2
		m.net.setDown(1, true)
		m.net.setDown(2, true)
		_, err := m.write(3, Routing{}, true, p(1))
		if !errors.Is(err, ErrOutcomeUnknown) {
			t.Fatalf("got %v, want an outcome-unknown error", err)
		}
		if got := m.reported(); len(got) != 0 {
			t.Fatalf("reports %+v: no replica applied it, none is behind", got)
		}
	})
	t.Run("refused everywhere", func(t *testing.T) {
		m := newMemCluster(t, peers, 1, 2, 2, dotBody)
		bad := point.Errorf(point.KindBadInput, "Wrong input: bad point")
		m.net.setRefuse(1, bad)
		m.net.setRefuse(2, bad)
		_, err := m.write(3, Routing{}, true, p(1)) // peer 3 holds no replica: it leads with two remote ones
		if err == nil || errors.Is(err, ErrOutcomeUnknown) || point.KindOf(err) != point.KindBadInput || point.DescriptionOf(err) != "Wrong input: bad point" {
			t.Fatalf("got %v (kind %v), want the refusal", err, point.KindOf(err))
		}
		if got := m.reported(); len(got) != 0 {
			t.Fatalf("reports %+v", got)
		}
	})
	t.Run("wcf 1, reported once, wait for deactivation", func(t *testing.T) {
		m := newMemCluster(t, peers, 1, 3, 1, dotBody)
		m.deadOnReport = true
		m.net.setDown(3, true)
		for i := range uint64(3) {
			if _, err := m.write(1, Routing{}, true, p(i)); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		if got := m.reported(); len(got) != 1 || got[0] != (report{1, 0, 3, ReplicaActive}) {
			t.Fatalf("reports %+v, want peer 3 once from Active", got)
		}
		m.wg.Wait()
		if st := m.peer(1).layout().set(0).States(1)[3]; st != ReplicaDead {
			t.Fatalf("peer 3's replica is %v", st)
		}
		if updates, _ := m.net.counts(3); updates != 1 {
			t.Fatalf("peer 3 got %d updates, want 1 (then disabled, then Dead)", updates)
		}
		// Back, and Active again by consensus: it takes updates again.
		m.net.setDown(3, false)
		m.setState(0, 3, ReplicaActive)
		if _, err := m.write(1, Routing{}, true, p(9)); err != nil {
			t.Fatal(err)
		}
		if updates, _ := m.net.counts(3); updates != 2 {
			t.Fatalf("peer 3 got %d updates, want 2 once Active again", updates)
		}
	})
	t.Run("wcf 1, consensus never deactivates", func(t *testing.T) {
		m := newMemCluster(t, peers, 1, 2, 1, dotBody)
		m.peer(1).deactivation = 100 * time.Millisecond
		m.net.setDown(2, true)
		_, err := m.write(1, Routing{}, true, p(1))
		if !errors.Is(err, ErrOutcomeUnknown) || !strings.Contains(err.Error(), "Consistency of this update is not guaranteed") {
			t.Fatalf("got %v", err)
		}
		// Without wait too: peer 2, disabled here and still Active by
		// consensus, did not get it (beyond Qdrant, which acknowledges).
		_, err = m.write(1, Routing{}, false, p(2))
		if !errors.Is(err, ErrOutcomeUnknown) || !strings.Contains(err.Error(), "disabled on peer 1") {
			t.Fatalf("without wait: %v", err)
		}
		// Consensus refuses the report (say, the last Active replica):
		// peer 2 takes updates again and, back, applies them.
		m.peer(1).ReportRefused(0, 2, ReplicaActive)
		m.net.setDown(2, false)
		if res, err := m.write(1, Routing{}, false, p(3)); err != nil || res.Status != Acknowledged {
			t.Fatalf("after the refusal: %+v %v", res, err)
		}
	})
	t.Run("no Active replica applied it", func(t *testing.T) {
		m := newMemCluster(t, peers, 1, 2, 1, dotBody)
		m.deadOnReport = true
		m.setState(0, 1, ReplicaPartial) // peer 1's replica fills; peer 2 down
		m.net.setDown(2, true)
		_, err := m.write(1, Routing{}, true, p(1))
		if !errors.Is(err, ErrOutcomeUnknown) || !strings.Contains(err.Error(), "at least one `Active` replica") {
			t.Fatalf("got %v", err)
		}
	})
}

// TestReplicasClockRejection: a replica that has seen a newer tick of the
// leader's clock rejects the update with that tick; the leader advances
// its clock past it and retries, and both replicas apply it.
func TestReplicasClockRejection(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2}, 1, 2, 2, dotBody)
	c1, c2 := m.peer(1), m.peer(2)
	// Peer 2's replica sees tick 100 of peer 1's clock 0.
	tag := ops.ClockTag{PeerID: 1, ClockID: 0, Tick: 100, Token: c1.token}
	res, err := c2.ReplicaUpdate(bg, 0, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{vecPoint(50, []float32{1, 1, 1, 1}, 0)}}, RemoteUpdate{Wait: true, Tag: &tag})
	if err != nil || res.Rejected {
		t.Fatalf("tick 100: %+v %v", res, err)
	}
	// Again with an older tick: rejected, echoing 100.
	old := tag
	old.Tick = 7
	res, err = c2.ReplicaUpdate(bg, 0, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{vecPoint(51, []float32{1, 1, 1, 1}, 0)}}, RemoteUpdate{Wait: true, Tag: &old})
	if err != nil || !res.Rejected || res.Tag.Tick != 100 {
		t.Fatalf("tick 7 after 100: %+v %v, want rejected with 100", res, err)
	}
	before, _ := m.net.counts(2)
	if _, err := m.write(1, Routing{}, true, vecPoint(1, []float32{1, 0, 0, 0}, 1)); err != nil {
		t.Fatalf("write: %v", err)
	}
	if after, _ := m.net.counts(2); after-before != 2 {
		t.Fatalf("peer 2 got %d attempts, want 2 (rejected, then accepted)", after-before)
	}
	for _, c := range []*Collection{c1, c2} {
		sh, _ := c.layout().set(0).Local()
		if recs, _ := retrieveLocal(bg, sh, []point.ID{point.NumID(1)}, ops.PayloadSelector{}, ops.VectorSelector{}); len(recs) != 1 {
			t.Fatalf("a replica lacks the point")
		}
		if rp := sh.RecoveryPoint(); rp[ops.ClockKey{PeerID: 1}] != 101 {
			t.Fatalf("recovery point %v, want tick 101 of clock 1/0", rp)
		}
	}
}

// TestReplicasReadFallback: a read through a peer holding no replica goes
// to a remote one and on to the next when it does not answer; with none
// answering the read fails as unavailable.
func TestReplicasReadFallback(t *testing.T) {
	m := newMemCluster(t, []uint64{2, 3, 1}, 1, 2, 1, dotBody) // shard 0 on peers 2, 3
	if _, err := m.write(1, Routing{}, true, vecPoint(1, []float32{1, 0, 0, 0}, 1), vecPoint(2, []float32{0, 1, 0, 0}, 2)); err != nil {
		t.Fatal(err)
	}
	c := m.peer(1)
	m.net.setDown(2, true)
	if n, err := c.Count(bg, ops.CountRequest{Exact: true}); err != nil || n != 2 {
		t.Fatalf("count with peer 2 down: %d %v", n, err)
	}
	if _, reads := m.net.counts(3); reads != 1 {
		t.Fatalf("peer 3 served %d reads", reads)
	}
	m.net.setDown(3, true)
	_, err := c.Count(bg, ops.CountRequest{Exact: true})
	if point.KindOf(err) != point.KindUnavailable {
		t.Fatalf("count with both down: %v", err)
	}
	// A replica that is asked although it serves no reads (the asking
	// peer's view is behind) refuses, and the read moves on.
	m.net.setDown(2, false)
	m.net.setDown(3, false)
	m.peer(2).layout().set(0).SetLocalState(ReplicaPartial)
	if n, err := c.Count(bg, ops.CountRequest{Exact: true}); err != nil || n != 2 {
		t.Fatalf("count with peer 2 refusing: %d %v", n, err)
	}
}

// TestReplicasReadConsistency: all, majority, quorum and a factor ask
// that many replicas and keep what Qdrant's resolution keeps; too few
// answers or too few replicas fail.
func TestReplicasReadConsistency(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2, 3}, 1, 3, 3, dotBody)
	if _, err := m.write(1, Routing{}, true, vecPoint(1, []float32{1, 0, 0, 0}, 1), vecPoint(2, []float32{0, 1, 0, 0}, 2)); err != nil {
		t.Fatal(err)
	}
	// Point 9 reaches the replicas of peers 2 and 3 only, point 8 that
	// of peer 3 only (tagged updates sent straight to them).
	tick := uint64(1000)
	only := func(id uint64, peers ...uint64) {
		for _, p := range peers {
			tick++
			tag := ops.ClockTag{PeerID: 9, Tick: tick}
			if _, err := m.peer(p).ReplicaUpdate(bg, 0, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{vecPoint(id, []float32{0, 0, 1, 0}, 9)}}, RemoteUpdate{Wait: true, Tag: &tag}); err != nil {
				t.Fatal(err)
			}
		}
	}
	only(9, 2, 3)
	only(8, 3)
	ids := []point.ID{point.NumID(1), point.NumID(2), point.NumID(8), point.NumID(9)}
	got := func(c ReadConsistency) (string, int, error) {
		ctx := WithRouting(bg, Routing{Consistency: c})
		recs, err := m.peer(1).Retrieve(ctx, ids, ops.PayloadSelector{}, ops.VectorSelector{})
		if err != nil {
			return "", 0, err
		}
		var s []string
		for _, r := range recs {
			s = append(s, r.ID.String())
		}
		n, err := m.peer(1).Count(ctx, ops.CountRequest{Exact: true})
		return strings.Join(s, ","), n, err
	}
	for _, tc := range []struct {
		c     ReadConsistency
		ids   string
		count int
	}{
		{ReadConsistency{}, "1,2", 2},                            // the local replica
		{ReadConsistency{Kind: ConsistencyAll}, "1,2", 2},        // what all three hold; the smallest count
		{ReadConsistency{Kind: ConsistencyMajority}, "1,2,9", 3}, // what two of three hold; the median count
		{ReadConsistency{Kind: ConsistencyQuorum}, "1,2", 2},     // peers 1 and 2, all of what both hold
		{ReadConsistency{Factor: 3}, "1,2", 2},
		{ReadConsistency{Factor: 7}, "1,2", 2}, // clamped to the replicas
	} {
		ids, n, err := got(tc.c)
		if err != nil || ids != tc.ids || n != tc.count {
			t.Errorf("%+v: ids %s count %d (%v), want %s %d", tc.c, ids, n, err, tc.ids, tc.count)
		}
	}
	// Search resolves the same way.
	hits, err := m.peer(1).Search(WithRouting(bg, Routing{Consistency: ReadConsistency{Kind: ConsistencyMajority}}), ops.SearchRequest{Vector: []float32{0, 0, 1, 0}, Limit: 10})
	if err != nil || len(hits) != 3 || hits[0].ID != point.NumID(9) {
		t.Fatalf("majority search: %+v %v", hits, err)
	}
	// Peer 3 down: all asks three and hears two.
	m.net.setDown(3, true)
	if _, _, err := got(ReadConsistency{Kind: ConsistencyAll}); err == nil || !strings.Contains(err.Error(), "1 of 3 read operations failed") {
		t.Fatalf("all with a replica down: %v", err)
	}
	if ids, _, err := got(ReadConsistency{Factor: 2}); err != nil || ids != "1,2" {
		t.Fatalf("factor 2 with a replica down: %s %v", ids, err)
	}
	// Peer 3 Dead: all cannot be met at all.
	m.setState(0, 3, ReplicaDead)
	if _, _, err := got(ReadConsistency{Kind: ConsistencyAll}); err == nil || !strings.Contains(err.Error(), "does not have enough active replicas") {
		t.Fatalf("all with a dead replica: %v", err)
	}
}

// TestReplicasListener: a Listener replica takes the updates (without
// waiting for them to apply) and serves no reads.
func TestReplicasListener(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2}, 1, 2, 1, dotBody)
	m.setState(0, 2, ReplicaListener)
	if _, err := m.write(1, Routing{}, true, vecPoint(1, []float32{1, 0, 0, 0}, 1), vecPoint(2, []float32{0, 1, 0, 0}, 1)); err != nil {
		t.Fatal(err)
	}
	sh, _ := m.peer(2).layout().set(0).Local()
	// The listener logged them without waiting: flush its queue.
	if _, err := sh.Update(bg, &ops.Operation{Kind: ops.Delete, IDs: []point.ID{point.NumID(99)}}, true); err != nil {
		t.Fatal(err)
	}
	if recs, _ := retrieveLocal(bg, sh, []point.ID{point.NumID(1), point.NumID(2)}, ops.PayloadSelector{}, ops.VectorSelector{}); len(recs) != 2 {
		t.Fatalf("listener holds %d of 2 points", len(recs))
	}
	// Reads through the listener's peer go to peer 1; with peer 1 down
	// there is no readable replica.
	if n, err := m.peer(2).Count(bg, ops.CountRequest{Exact: true}); err != nil || n != 2 {
		t.Fatalf("count through the listener's peer: %d %v", n, err)
	}
	if _, reads := m.net.counts(1); reads != 1 {
		t.Fatalf("peer 1 served %d reads", reads)
	}
	m.net.setDown(1, true)
	if _, err := m.peer(2).Count(bg, ops.CountRequest{Exact: true}); point.KindOf(err) != point.KindUnavailable {
		t.Fatalf("count with only the listener up: %v", err)
	}
	if _, err := m.peer(2).ReplicaCount(bg, 0, ops.CountRequest{}); point.KindOf(err) != point.KindUnavailable {
		t.Fatalf("a read sent to the listener: %v", err)
	}
}

// TestReplicaUpdateStates: a tagged update is applied by a replica whose
// state takes updates; a forced one (a transfer's) only by a replica
// receiving a transfer: Partial, Recovery and PartialSnapshot.
func TestReplicaUpdateStates(t *testing.T) {
	m := newMemCluster(t, []uint64{1}, 1, 1, 1, dotBody)
	rs := m.peer(1).layout().set(0)
	tick := uint64(0)
	send := func(force bool) error {
		tick++
		tag := ops.ClockTag{PeerID: 5, Tick: tick, Force: force}
		op := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{vecPoint(tick, []float32{1, 0, 0, 0}, 0)}}
		if force {
			// Forced updates come only in a transfer's batches.
			if _, err := m.peer(1).ReplicaUpdate(bg, 0, op, RemoteUpdate{Wait: true, Tag: &tag}); point.KindOf(err) != point.KindBadRequest {
				t.Errorf("a forced plain update: %v, want a bad request", err)
			}
			_, err := m.peer(1).ReplicaTransferUpdates(bg, 0, TransferBatch{Wait: true, Updates: []TaggedUpdate{{Op: op, Tag: tag}}})
			return err
		}
		_, err := m.peer(1).ReplicaUpdate(bg, 0, op, RemoteUpdate{Wait: true, Tag: &tag})
		return err
	}
	for _, tc := range []struct {
		s            ReplicaState
		plain, force bool
	}{
		{ReplicaActive, true, false},
		{ReplicaInitializing, true, false},
		{ReplicaPartial, true, true},
		{ReplicaListener, true, false},
		{ReplicaActiveRead, true, false},
		{ReplicaRecovery, false, true},
		{ReplicaPartialSnapshot, false, true},
		{ReplicaDead, false, false},
		{ReplicaManualRecovery, false, false},
	} {
		rs.SetLocalState(tc.s)
		for _, force := range []bool{false, true} {
			want := tc.plain
			if force {
				want = tc.force
			}
			err := send(force)
			if (err == nil) != want || (err != nil && point.KindOf(err) != point.KindUnavailable) {
				t.Errorf("%s force=%v: %v, want applied=%v", tc.s, force, err, want)
			}
		}
	}
	if _, err := m.peer(1).ReplicaUpdate(bg, 7, &ops.Operation{Kind: ops.Upsert}, RemoteUpdate{Tag: &ops.ClockTag{Tick: 1}}); point.KindOf(err) != point.KindNotFound {
		t.Fatalf("unknown shard: %v", err)
	}
}

var _ = context.Background

// TestReplicasBatchFacetOrderByQueryByID: a batch of updates through a
// peer reaches every replica with its operation ids; facets, order_by
// scrolls and a search by point id are answered across the peers as one
// collection answers them.
func TestReplicasBatchFacetOrderByQueryByID(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2, 3}, 3, 2, 2, dotBody)
	var pts []ops.PointStruct
	for i := range uint64(30) {
		pts = append(pts, vecPoint(i, []float32{float32(i), 1, 0, 0}, int(i%3)))
	}
	res, err := m.peer(2).UpdateBatch(bg, []*ops.Operation{
		{Kind: ops.CreateIndex, Key: "w", Schema: &ops.FieldSchema{Type: "integer"}},
		{Kind: ops.Upsert, Points: pts},
		{Kind: ops.Delete, IDs: []point.ID{point.NumID(0)}},
	}, true)
	if err != nil || len(res) != 3 || res[1].OperationID == 0 || res[2].Status != Completed {
		t.Fatalf("batch: %+v %v", res, err)
	}
	m.sameReplicas()
	for _, p := range []uint64{1, 2, 3} {
		c := m.peer(p)
		hits, err := c.Facet(bg, ops.FacetRequest{Key: "w", Limit: 10})
		if err != nil || fmt.Sprint(hits) != "[{1 10} {2 10} {0 9}]" {
			t.Fatalf("peer %d: facet %v %v", p, hits, err)
		}
		recs, _, err := c.Scroll(bg, ops.ScrollRequest{Limit: 4, OrderBy: &ops.OrderBy{Key: "w", Desc: true}})
		if err != nil || len(recs) != 4 || recs[0].ID != point.NumID(2) || recs[3].ID != point.NumID(11) {
			t.Fatalf("peer %d: order_by %+v %v", p, recs, err)
		}
		q := point.NumID(29)
		found, err := c.Search(bg, ops.SearchRequest{QueryID: &q, Limit: 2, Params: ops.SearchParams{Exact: true}})
		if err != nil || len(found) != 2 || found[0].ID != point.NumID(28) || found[1].ID != point.NumID(27) {
			t.Fatalf("peer %d: search by id %+v %v", p, found, err)
		}
	}
}

// TestReadBarrier: a read of a replicated shard passes the read barrier
// first; a peer that cannot pass it (cut off from consensus) answers
// unavailable rather than read a replica that may have been marked Dead,
// while a peer that passes it reads as before.
func TestReadBarrier(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2, 3}, 1, 3, 2, dotBody)
	if _, err := m.write(1, Routing{}, true, vecPoint(1, []float32{0, 1, 0, 0}, 0)); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	m.barrier = func(p uint64) error {
		calls.Add(1)
		if p == 2 {
			return errors.New("no leader")
		}
		return nil
	}
	m.commit()
	all := ops.PayloadSelector{Enable: true}
	recs, err := m.peer(1).Retrieve(context.Background(), []point.ID{point.NumID(1)}, all, ops.VectorSelector{})
	if err != nil || len(recs) != 1 || calls.Load() == 0 {
		t.Fatalf("through peer 1: %v %v (%d barrier calls)", recs, err, calls.Load())
	}
	_, err = m.peer(2).Retrieve(context.Background(), []point.ID{point.NumID(1)}, all, ops.VectorSelector{})
	if point.KindOf(err) != point.KindUnavailable || !strings.Contains(err.Error(), "cannot confirm its view") {
		t.Fatalf("through peer 2: %v (kind %v), want unavailable", err, point.KindOf(err))
	}
	if _, err := m.peer(2).Count(context.Background(), ops.CountRequest{}); point.KindOf(err) != point.KindUnavailable {
		t.Fatalf("count through peer 2: %v", err)
	}
}

// TestLaggingLeaderView: a leader whose view of the replica states lags
// (a replica it sees Dead is Active again) sends the update to fewer
// replicas; before acknowledging it passes the read barrier, sees the
// Active replica that missed it, reports it, and answers unknown.
func TestLaggingLeaderView(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2, 3}, 1, 3, 1, dotBody)
	m.barrier = func(p uint64) error { return m.peer(p).SetTopology(m.topology(p)) }
	stale := m.topology(1)
	stale.Shards[0].States[3] = ReplicaDead
	if err := m.peer(1).SetTopology(stale); err != nil {
		t.Fatal(err)
	}
	_, err := m.write(1, Routing{}, true, vecPoint(1, []float32{0, 1, 0, 0}, 0))
	if !errors.Is(err, ErrOutcomeUnknown) || !strings.Contains(err.Error(), "Active replica on peer 3") {
		t.Fatalf("got %v, want unknown naming peer 3", err)
	}
	if got := m.reported(); len(got) != 1 || got[0] != (report{1, 0, 3, ReplicaActive}) {
		t.Fatalf("reports %+v, want peer 3 once from Active", got)
	}
	// The view is current now (the barrier refreshed it), and peer 3 was
	// disabled: consensus keeps it Active, so updates fail until it
	// changes; with its state changed they go through.
	m.setState(0, 3, ReplicaPartial)
	if _, err := m.write(1, Routing{}, true, vecPoint(2, []float32{0, 1, 0, 0}, 0)); err != nil {
		t.Fatalf("with peer 3 Partial: %v", err)
	}
}

// TestClockSeededFromOwnReplica: a clock this peer makes starts past the
// ticks of it that its own replica saw (a life before a restart), even
// when that replica takes no updates: the update goes to the others with
// a newer tick, so that the own replica, recovered later by WAL delta,
// is not told it holds the update already.
func TestClockSeededFromOwnReplica(t *testing.T) {
	m := newMemCluster(t, []uint64{1, 2}, 1, 2, 1, dotBody)
	// Peer 1's replica saw tick 500 of peer 1's clock 0 (its last life).
	tag := ops.ClockTag{PeerID: 1, ClockID: 0, Tick: 500}
	if _, err := m.peer(1).ReplicaUpdate(bg, 0, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{vecPoint(9, []float32{1, 1, 1, 1}, 0)}}, RemoteUpdate{Wait: true, Tag: &tag}); err != nil {
		t.Fatal(err)
	}
	m.setState(0, 1, ReplicaDead)
	if _, err := m.write(1, Routing{}, true, vecPoint(1, []float32{1, 0, 0, 0}, 1)); err != nil {
		t.Fatalf("write: %v", err)
	}
	sh, _ := m.peer(2).layout().set(0).Local()
	if got := sh.RecoveryPoint()[ops.ClockKey{PeerID: 1}]; got != 501 {
		t.Fatalf("peer 2 holds tick %d of peer 1's clock 0, want 501", got)
	}
}
