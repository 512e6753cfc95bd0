package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
)

// Fault kinds the nemesis injects.
const (
	FaultKill         = "kill"             // SIGKILL a random peer, restart it at heal
	FaultKillLeader   = "kill-leader"      // SIGKILL the raft leader
	FaultKillOrdering = "kill-ordering"    // SIGKILL the shards' medium ordering leader (highest peer id)
	FaultPause        = "pause"            // SIGSTOP a random peer, SIGCONT at heal
	FaultPartition    = "partition"        // one peer against the majority, both ways
	FaultPartitionOne = "partition-oneway" // one peer cannot reach the others; they reach it
	FaultBridge       = "bridge"           // two peers cut from each other, both see the third
	FaultDelay        = "delay"            // every P2P link delayed 20-150 ms
	FaultDrop         = "drop"             // a fraction of P2P messages dropped or lost
	// FaultClockJump kills a random peer and restarts it at once with
	// its monotonic and boot clocks moved by a random 0-3 days (a time
	// namespace of its own), so that its clocks jump, forward or back,
	// against its previous life and the other peers'. Only where
	// clustertest.TimeNamespaces holds (root on Linux 5.6+); elsewhere
	// the nemesis leaves it out.
	FaultClockJump = "clock-jump"
)

// FaultKinds lists every kind, in the order of the table.
var FaultKinds = []string{FaultKill, FaultKillLeader, FaultKillOrdering, FaultPause, FaultPartition,
	FaultPartitionOne, FaultBridge, FaultDelay, FaultDrop, FaultClockJump}

// kinds is the faults this machine can inject: FaultKinds, without the
// clock jump where processes cannot get a time namespace.
func kinds() []string {
	if clustertest.TimeNamespaces() {
		return FaultKinds
	}
	return slices.DeleteFunc(slices.Clone(FaultKinds), func(k string) bool { return k == FaultClockJump })
}

// Event is one nemesis action, recorded on the history's clock.
type Event struct {
	At   time.Duration
	What string // "start <kind> ...", "heal <kind>"
}

func (e Event) String() string { return fmt.Sprintf("%.3fms nemesis %s", float64(e.At)/1e6, e.What) }

// nemesis injects faults into a cluster on a seeded schedule.
type nemesis struct {
	c     *clustertest.Cluster
	rng   *rand.Rand
	now   func() time.Duration
	logf  func(string, ...any)
	hold  [2]time.Duration // a fault lasts between these
	quiet [2]time.Duration // healthy time between faults

	mu     sync.Mutex
	events []Event
	counts map[string]int
	heal   func() error // undoes the current fault
	kind   string
}

func (n *nemesis) record(format string, args ...any) {
	e := Event{At: n.now(), What: fmt.Sprintf(format, args...)}
	n.mu.Lock()
	n.events = append(n.events, e)
	n.mu.Unlock()
	n.logf("%s", e)
}

func (n *nemesis) between(r [2]time.Duration) time.Duration {
	return r[0] + time.Duration(n.rng.Int64N(int64(r[1]-r[0])+1))
}

// run injects and heals faults until ctx ends, then heals the last one.
func (n *nemesis) run(ctx context.Context) error {
	defer n.healCurrent()
	ks := kinds()
	for {
		if !sleepCtx(ctx, n.between(n.quiet)) {
			return nil
		}
		kind := ks[n.rng.IntN(len(ks))]
		if err := n.inject(kind); err != nil {
			n.record("could not inject %s: %v", kind, err)
			continue
		}
		if !sleepCtx(ctx, n.between(n.hold)) {
			return nil
		}
		if err := n.healCurrent(); err != nil {
			return err
		}
	}
}

// sleepCtx waits d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (n *nemesis) randomPeer() *clustertest.Peer { return n.c.Peers[n.rng.IntN(len(n.c.Peers))] }

func (n *nemesis) inject(kind string) error {
	var heal func() error
	var what string
	switch kind {
	case FaultKill, FaultKillLeader, FaultKillOrdering:
		p, err := n.victim(kind)
		if err != nil {
			return err
		}
		if err := p.Kill(); err != nil {
			return err
		}
		what = fmt.Sprintf("peer %d", p.Index)
		heal = func() error { return n.restart(p) }
	case FaultClockJump:
		p := n.randomPeer()
		if err := p.Kill(); err != nil {
			return err
		}
		off := time.Duration(n.rng.IntN(3*24*3600)) * time.Second
		p.SetClockOffset(off)
		if err := n.restart(p); err != nil {
			return err
		}
		what = fmt.Sprintf("peer %d restarted with its monotonic clock at +%v", p.Index, off)
		heal = func() error { return nil }
	case FaultPause:
		p := n.randomPeer()
		if err := p.Pause(); err != nil {
			return err
		}
		what = fmt.Sprintf("peer %d", p.Index)
		heal = p.Resume
	case FaultPartition:
		p := n.randomPeer()
		var rest []int
		for _, q := range n.c.Peers {
			if q != p {
				rest = append(rest, q.Index)
			}
		}
		n.c.Partition([]int{p.Index}, rest)
		what = fmt.Sprintf("[%d] | %v", p.Index, rest)
		heal = n.healNet
	case FaultPartitionOne:
		p := n.randomPeer()
		for _, q := range n.c.Peers {
			if q != p {
				q.Proxy.Set(p.Host, clustertest.Rule{Mode: clustertest.Cut})
			}
		}
		what = fmt.Sprintf("peer %d cannot reach the others", p.Index)
		heal = n.healNet
	case FaultBridge:
		perm := n.rng.Perm(len(n.c.Peers))
		a, b := n.c.Peers[perm[0]], n.c.Peers[perm[1]]
		a.Proxy.Set(b.Host, clustertest.Rule{Mode: clustertest.Cut})
		b.Proxy.Set(a.Host, clustertest.Rule{Mode: clustertest.Cut})
		what = fmt.Sprintf("%d x %d, the others bridge", a.Index, b.Index)
		heal = n.healNet
	case FaultDelay:
		d := time.Duration(20+n.rng.IntN(131)) * time.Millisecond
		for _, p := range n.c.Peers {
			p.Proxy.Set("", clustertest.Rule{Mode: clustertest.Pass, Delay: d})
		}
		what = d.String()
		heal = n.healNet
	case FaultDrop:
		pct := 10 + n.rng.IntN(21)
		seed := n.rng.Uint64()
		var mu sync.Mutex
		r := rand.New(rand.NewPCG(seed, 1))
		f := func(clustertest.Call) clustertest.Verdict {
			mu.Lock()
			defer mu.Unlock()
			switch x := r.IntN(100); {
			case x < pct/2:
				return clustertest.Verdict{Drop: true}
			case x < pct:
				return clustertest.Verdict{Lose: true}
			}
			return clustertest.Verdict{}
		}
		for _, p := range n.c.Peers {
			p.Msgs.SetFilter(f)
		}
		what = fmt.Sprintf("%d%% of P2P messages", pct)
		heal = n.healNet
	default:
		return fmt.Errorf("unknown fault %q", kind)
	}
	n.mu.Lock()
	n.heal, n.kind = heal, kind
	if n.counts == nil {
		n.counts = map[string]int{}
	}
	n.counts[kind]++
	n.mu.Unlock()
	n.record("start %s %s", kind, what)
	return nil
}

// victim picks the peer a kill fault kills.
func (n *nemesis) victim(kind string) (*clustertest.Peer, error) {
	switch kind {
	case FaultKillLeader:
		st, err := n.c.Peers[n.rng.IntN(len(n.c.Peers))].Cluster()
		if err != nil || st.RaftInfo.Leader == nil {
			return nil, fmt.Errorf("no known raft leader: %v", err)
		}
		if p := n.c.PeerByID(*st.RaftInfo.Leader); p != nil {
			return p, nil
		}
		return nil, fmt.Errorf("raft leader %d not found", *st.RaftInfo.Leader)
	case FaultKillOrdering:
		// Every shard has a replica on every peer (replication_factor 3 on
		// 3 peers): the medium ordering leader of each is the highest peer
		// id whose replica is Active; with all Active, the highest id.
		var ids []uint64
		byID := map[uint64]*clustertest.Peer{}
		for _, p := range n.c.Peers {
			if st, err := p.Cluster(); err == nil {
				ids = append(ids, st.PeerID)
				byID[st.PeerID] = p
			}
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("no peer answers")
		}
		return byID[slices.Max(ids)], nil
	}
	return n.randomPeer(), nil
}

func (n *nemesis) restart(p *clustertest.Peer) error {
	if err := p.Start(""); err != nil {
		return err
	}
	return n.c.WaitReady(p, 60*time.Second)
}

func (n *nemesis) healNet() error {
	n.c.Heal()
	for _, p := range n.c.Peers {
		p.Msgs.SetFilter(nil)
	}
	return nil
}

func (n *nemesis) healCurrent() error {
	n.mu.Lock()
	heal, kind := n.heal, n.kind
	n.heal, n.kind = nil, ""
	n.mu.Unlock()
	if heal == nil {
		return nil
	}
	err := heal()
	n.record("heal %s", kind)
	if err != nil {
		return fmt.Errorf("heal %s: %w", kind, err)
	}
	return nil
}

// snapshot returns the events and counts so far.
func (n *nemesis) snapshot() ([]Event, map[string]int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	counts := map[string]int{}
	for k, v := range n.counts {
		counts[k] = v
	}
	return append([]Event(nil), n.events...), counts
}
