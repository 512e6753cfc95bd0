package cluster_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/clustertest/history"
	"github.com/shoaldb/shoal/internal/testkit"
)

// TestWriteHistoryUnderKill records every write of concurrent clients on
// all peers, with medium ordering and write_consistency_factor 2, while
// one peer is killed with SIGKILL, and checks the final state against the
// history: no acknowledged write lost, no deleted point back, no refused
// write visible. Two collections: replication_factor 2 (the shards that
// lose a replica can no longer reach 2 replicas: their writes must answer
// "outcome unknown", never a plain failure, and never lose an acknowledged
// one) and replication_factor 3 (writes go on with 2 replicas once the
// killed one is Dead). The figures are logged for the closing note.
func TestWriteHistoryUnderKill(t *testing.T) {
	c := clustertest.Start(t, 3, clustertest.Options{})
	peers := c.Peers
	ids := peerIDs(t, peers)
	colls := map[string]int{"h2": 2, "h3": 3}
	placements := map[string]map[uint32]map[uint64]string{}
	for name, rf := range colls {
		createDistributed(t, peers[0], name, 3, rf, 2)
		placements[name] = waitReplicas(t, peers, name, 3, rf, "Active")
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	recs := map[string]*history.Recorder{"h2": history.NewRecorder(), "h3": history.NewRecorder()}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var wg sync.WaitGroup
	for name := range colls {
		for i, p := range peers {
			cl := &history.Client{Rec: recs[name], BaseURL: p.BaseURL(), Peer: fmt.Sprintf("peer-%d", i),
				Collection: name, Ordering: "medium", Timeout: 10 * time.Second, Dim: 4}
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed, uint64(i)))
				for ctx.Err() == nil {
					key := uint64(r.IntN(24) + 1)
					var op history.Op
					if r.IntN(5) == 0 {
						op = cl.Delete(context.Background(), key)
					} else {
						op = cl.Upsert(context.Background(), key)
					}
					if strings.HasPrefix(op.Detail, "connection refused") {
						return // its peer is down: nothing more to record
					}
				}
			}()
		}
	}
	// Writes run a while, then peer 2 dies in the middle of them.
	if err := testkit.Poll(10*time.Second, func() error {
		if n := len(recs["h2"].History()) + len(recs["h3"].History()); n < 300 {
			return fmt.Errorf("%d writes so far", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	victim := peers[2]
	if err := victim.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := recs["h2"].Now()
	acked := func() int {
		n := 0
		for _, rec := range recs {
			for _, op := range rec.History() {
				if op.Invoke > killedAt && op.Outcome == history.OK {
					n++
				}
			}
		}
		return n
	}
	if err := testkit.Poll(30*time.Second, func() error {
		if n := acked(); n < 300 {
			return fmt.Errorf("%d writes acknowledged since the kill", n)
		}
		return nil
	}); err != nil {
		t.Errorf("writes did not go on after the kill: %v", err)
	}
	stop()
	wg.Wait()

	// rf=3: the killed peer's replicas turn Dead, and writes went on.
	testkit.Eventually(t, "h3's replicas on the killed peer are Dead", 30*time.Second, func() error {
		ci, err := getClusterInfo(peers[0], "h3")
		if err != nil {
			return err
		}
		for s, r := range ci.replicaStates() {
			if r[ids[2]] != "Dead" {
				return fmt.Errorf("shard %d: %v", s, r)
			}
		}
		return nil
	})

	hc := &http.Client{Timeout: 30 * time.Second}
	pc := newP2PConns(t, c)
	for _, name := range []string{"h2", "h3"} {
		var finals []map[uint64]history.WriteID
		for _, p := range peers[:2] {
			f, err := history.ReadFinal(context.Background(), hc, p.BaseURL(), name, history.ScrollOptions{})
			if err != nil {
				t.Fatalf("%s: final read through peer %d: %v", name, p.Index, err)
			}
			finals = append(finals, f)
		}
		if !reflect.DeepEqual(finals[0], finals[1]) {
			t.Errorf("%s: peers 0 and 1 read different final states", name)
		}
		rep := history.Check(recs[name].History(), finals[0])
		t.Logf("%s (replication_factor %d, write_consistency_factor 2, medium): %s", name, colls[name], rep.String())
		if !rep.OK() {
			t.Errorf("%s: %s", name, rep)
		}
		if rep.Acknowledged == 0 {
			t.Errorf("%s: no write was acknowledged", name)
		}
		// The live replicas of every shard hold the same points.
		live := map[uint32]map[uint64]string{}
		for s, r := range placements[name] {
			live[s] = map[uint64]string{}
			for p, st := range r {
				if p != ids[2] {
					live[s][p] = st
				}
			}
		}
		compareAllReplicas(t, pc, name, live)
	}
	// Every server error says what became of the write: the outcome is
	// unknown, or it was not applied; never a bare failure.
	for name, rec := range recs {
		for _, op := range rec.History() {
			d := strings.ToLower(op.Detail)
			if op.Outcome != history.OK && strings.HasPrefix(d, "5") &&
				!strings.Contains(d, history.UnknownOutcomePhrase) && !strings.Contains(d, history.NotAppliedPhrase) {
				t.Errorf("%s: a server error that does not say the outcome: %s", name, op)
			}
		}
	}
}
