package faults

import "fmt"

// Mode is one collection's write mode and what Shoal's README promises
// for it.
type Mode struct {
	Ordering string // weak, medium or strong
	WCF      int    // write_consistency_factor
	Wait     bool
	// Linearizable: every key's history of upserts, deletes and reads by
	// id is linearizable (README: medium and strong put every update of a
	// shard through one leader; a read after a 200 with wait=true sees the
	// update on every readable replica).
	Linearizable bool
	// Durable: the final state is one the acknowledged history allows (no
	// acknowledged write lost, no delete resurrected), and every replica
	// of every shard holds the same points after healing.
	Durable bool
}

// Name is the collection name of the mode.
func (m Mode) Name() string {
	w := "wait"
	if !m.Wait {
		w = "nowait"
	}
	return fmt.Sprintf("%s-wcf%d-%s", m.Ordering, m.WCF, w)
}

// Promise says in a few words what the mode promises.
func (m Mode) Promise() string {
	switch {
	case m.Linearizable:
		return "linearizable per key, durable, replicas converge"
	case m.Durable:
		return "durable, replicas converge"
	}
	return "none beyond no phantom and no refused write visible"
}

// DefaultModes is the representative set a run uses, with 3 replicas per
// shard: strong with wcf all and medium with wcf majority (both wait=true,
// linearizable), medium with wcf 1 and wait=false (durable, converges,
// not linearizable: an acknowledgement only means written to the WAL),
// and weak with wcf 1 (no ordering promise: replicas may end with
// different last values, as in Qdrant; only phantoms and refused writes
// that show are violations).
func DefaultModes() []Mode {
	return []Mode{
		{Ordering: "strong", WCF: 3, Wait: true, Linearizable: true, Durable: true},
		{Ordering: "medium", WCF: 2, Wait: true, Linearizable: true, Durable: true},
		{Ordering: "medium", WCF: 1, Wait: false, Durable: true},
		{Ordering: "weak", WCF: 1, Wait: true},
	}
}
