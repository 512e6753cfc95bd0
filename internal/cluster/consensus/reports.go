package consensus

import (
	"sync"

	"go.etcd.io/raft/v3"
)

// reports collects what the transport tells about deliveries (a peer was
// unreachable, a snapshot arrived or did not) until the Run goroutine hands
// them to raft. Unlike a bounded channel it never loses one: raft keeps a
// peer paused after a snapshot until it hears how the snapshot went, so a
// lost report would leave that peer behind for good.
type reports struct {
	mu      sync.Mutex
	unreach map[uint64]bool
	snaps   map[uint64]bool // peer -> delivered (the latest report wins)
	ready   chan struct{}   // holds a token while reports wait
}

func newReports() reports {
	return reports{unreach: map[uint64]bool{}, snaps: map[uint64]bool{}, ready: make(chan struct{}, 1)}
}

func (r *reports) unreachable(peer uint64) {
	r.mu.Lock()
	r.unreach[peer] = true
	r.mu.Unlock()
	r.notify()
}

func (r *reports) snapshot(peer uint64, delivered bool) {
	r.mu.Lock()
	r.snaps[peer] = delivered
	r.mu.Unlock()
	r.notify()
}

func (r *reports) notify() {
	select {
	case r.ready <- struct{}{}:
	default: // a token is there already
	}
}

// drain hands every waiting report to raft; only the Run goroutine calls it.
func (r *reports) drain(rn *raft.RawNode) {
	r.mu.Lock()
	unreach, snaps := r.unreach, r.snaps
	r.unreach, r.snaps = map[uint64]bool{}, map[uint64]bool{}
	r.mu.Unlock()
	for peer := range unreach {
		rn.ReportUnreachable(peer)
	}
	for peer, delivered := range snaps {
		status := raft.SnapshotFailure
		if delivered {
			status = raft.SnapshotFinish
		}
		rn.ReportSnapshot(peer, status)
	}
}
