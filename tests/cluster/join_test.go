package cluster_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
)

// joinStarts is how many times each join scenario runs: 1 in the suite,
// SHOAL_JOIN_STARTS for a long loop (scripts/join-loop.sh).
func joinStarts(t *testing.T) int {
	v := os.Getenv("SHOAL_JOIN_STARTS")
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("SHOAL_JOIN_STARTS=%q: want a positive integer", v)
	}
	return n
}

// formTimes collects how long each start took, for the summary line that
// scripts/join-loop.sh reads.
type formTimes struct {
	mu     sync.Mutex
	ok     []time.Duration
	failed int
}

func (f *formTimes) add(d time.Duration, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.failed++
		return
	}
	f.ok = append(f.ok, d)
}

func (f *formTimes) summary(t *testing.T, what string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ok) == 0 {
		t.Logf("JOIN SUMMARY %s: formed 0, failed %d", what, f.failed)
		return
	}
	slices.Sort(f.ok)
	t.Logf("JOIN SUMMARY %s: formed %d, failed %d, median %v, max %v", what, len(f.ok), f.failed,
		f.ok[len(f.ok)/2].Round(time.Millisecond), f.ok[len(f.ok)-1].Round(time.Millisecond))
}

// TestJoinTogether: 3, 5 and 7 peers started at the same moment (as
// Qdrant's own test harness starts them) form one cluster in which every
// peer is ready, a voter, knows every peer and agrees on the leader.
// Before the fix, 6 of 9 such starts left a learner behind for good.
func TestJoinTogether(t *testing.T) {
	starts := joinStarts(t)
	for _, n := range []int{3, 5, 7} {
		var times formTimes
		for i := range starts {
			t.Run(fmt.Sprintf("peers=%d/start=%d", n, i), func(t *testing.T) {
				c := clustertest.New(t, n, clustertest.Options{})
				start := time.Now()
				err := c.FormTogether(90 * time.Second)
				times.add(time.Since(start), err)
				if err != nil {
					t.Fatal(err)
				}
			})
		}
		times.summary(t, fmt.Sprintf("together peers=%d", n))
	}
}

// TestJoinTogetherUnderFaults: the same starts while the network drops,
// loses and delays the messages a join depends on: raft snapshots to the
// joining peers and their join requests (AddPeerToKnown) to the first
// peer. Every dropped or lost snapshot must be reported to raft and sent
// again, and every join retried, until the cluster forms.
func TestJoinTogetherUnderFaults(t *testing.T) {
	starts := joinStarts(t)
	sizes := []int{3, 5}
	if starts > 1 {
		sizes = append(sizes, 7)
	}
	for _, n := range sizes {
		var times formTimes
		for i := range starts {
			seed := uint64(1000*n + i)
			t.Run(fmt.Sprintf("peers=%d/start=%d", n, i), func(t *testing.T) {
				t.Logf("seed %d", seed)
				c := clustertest.New(t, n, clustertest.Options{Env: map[string]string{
					// A lost message costs the sender one call timeout.
					"QDRANT__CLUSTER__GRPC_TIMEOUT_MS": "1000",
				}})
				rng := rand.New(rand.NewPCG(seed, 0))
				var mu sync.Mutex
				delay := func(max time.Duration) time.Duration {
					mu.Lock()
					defer mu.Unlock()
					return time.Duration(rng.Int64N(int64(max)))
				}
				// Snapshots to each joiner: the first dropped, the
				// second lost, the others late.
				for _, p := range c.Peers[1:] {
					snaps := 0
					p.Msgs.SetFilter(func(call clustertest.Call) clustertest.Verdict {
						if call.RaftType != "MsgSnap" {
							return clustertest.Verdict{}
						}
						mu.Lock()
						snaps++
						k := snaps
						mu.Unlock()
						switch k {
						case 1:
							return clustertest.Verdict{Drop: true}
						case 2:
							return clustertest.Verdict{Lose: true}
						}
						return clustertest.Verdict{Delay: delay(300 * time.Millisecond)}
					})
				}
				// Join requests to the first peer: every third one
				// dropped, every third one lost, all of them late.
				joins := 0
				c.Peers[0].Msgs.SetFilter(func(call clustertest.Call) clustertest.Verdict {
					if call.Method != clustertest.MethodAddPeerToKnown {
						return clustertest.Verdict{}
					}
					mu.Lock()
					joins++
					k := joins
					mu.Unlock()
					switch k % 3 {
					case 1:
						return clustertest.Verdict{Drop: true}
					case 2:
						return clustertest.Verdict{Lose: true}
					}
					return clustertest.Verdict{Delay: delay(500 * time.Millisecond)}
				})
				start := time.Now()
				err := c.FormTogether(90 * time.Second)
				times.add(time.Since(start), err)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range c.Peers[1:] {
					if got := p.Msgs.Seen("Raft/MsgSnap"); got < 2 {
						t.Errorf("peer %d saw %d snapshots; the fault plan needs at least 2", p.Index, got)
					}
				}
				if got := c.Peers[0].Msgs.Seen(clustertest.MethodAddPeerToKnown); got < n {
					t.Errorf("the first peer saw %d join requests; want at least %d", got, n)
				}
			})
		}
		times.summary(t, fmt.Sprintf("faults peers=%d", n))
	}
}
