package history

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// genKey appends to h a random history of one key: a register updated by
// n overlapping operations. Each operation takes effect at one instant
// (acknowledged: inside its interval; unknown: at any time after its
// invoke, even after its client gave up, or never; refused: never), and
// the register's final value follows from the effects in time order: a
// history and a final state that a correct register produces.
func genKey(rng *rand.Rand, h History, key uint64, n int) (History, WriteID, bool) {
	type effect struct {
		at time.Duration
		op Op
	}
	var effects []effect
	for range n {
		id := WriteID(len(h) + 1)
		kind := Upsert
		if rng.IntN(3) == 0 {
			kind = Delete
		}
		inv := time.Duration(rng.IntN(100)) * time.Millisecond
		comp := inv + time.Duration(1+rng.IntN(40))*time.Millisecond
		op := Op{ID: id, Kind: kind, Key: key, Peer: "sim", Invoke: inv, Complete: comp}
		switch r := rng.IntN(20); {
		case r < 12:
			op.Outcome = OK
			effects = append(effects, effect{inv + time.Duration(rng.Int64N(int64(comp-inv)+1)), op})
		case r < 15:
			op.Outcome = Fail
		default:
			op.Outcome = Unknown
			if rng.IntN(4) == 0 {
				op.Complete = Forever
			}
			if rng.IntN(2) == 0 {
				effects = append(effects, effect{inv + time.Duration(rng.IntN(200))*time.Millisecond, op})
			}
		}
		h = append(h, op)
	}
	slices.SortStableFunc(effects, func(a, b effect) int { return cmp.Compare(a.at, b.at) })
	final, present := WriteID(0), false
	for _, e := range effects {
		final, present = e.op.ID, e.op.Kind == Upsert
	}
	return h, final, present
}

// reachable is a brute-force oracle independent of Check: it tries every
// subset of the unknown operations and every order of the chosen and
// acknowledged ones that respects real time (a before b when a completed
// before b was invoked; an unknown one never completes), and collects the
// final states: a write id, or absent (reported as 0).
func reachable(ops []Op) map[WriteID]bool {
	out := map[WriteID]bool{}
	var unknown, acked []Op
	for _, op := range ops {
		switch op.Outcome {
		case OK:
			acked = append(acked, op)
		case Unknown:
			unknown = append(unknown, op)
		}
	}
	before := func(a, b Op) bool { return a.Outcome == OK && a.Complete < b.Invoke }
	for mask := 0; mask < 1<<len(unknown); mask++ {
		set := slices.Clone(acked)
		for i, op := range unknown {
			if mask&(1<<i) != 0 {
				set = append(set, op)
			}
		}
		if len(set) == 0 {
			out[0] = true
			continue
		}
		used := make([]bool, len(set))
		var order []Op
		var dfs func()
		dfs = func() {
			if len(order) == len(set) {
				last := order[len(order)-1]
				if last.Kind == Upsert {
					out[last.ID] = true
				} else {
					out[0] = true
				}
				return
			}
			for i, op := range set {
				if used[i] {
					continue
				}
				ok := true // op may go next if no unplaced op must precede it
				for j, other := range set {
					if !used[j] && j != i && before(other, op) {
						ok = false
						break
					}
				}
				if !ok {
					continue
				}
				used[i] = true
				order = append(order, op)
				dfs()
				order = order[:len(order)-1]
				used[i] = false
			}
		}
		dfs()
	}
	return out
}

// TestCheckRandom generates histories of a simulated concurrent register
// (seeded; the seed is logged): Check accepts the state the register ends
// in, and for every other candidate final state of each key (absent, any
// operation's id, an id nobody wrote) it agrees with the brute-force
// oracle: it rejects exactly the states no valid linearization yields.
func TestCheckRandom(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	rounds := 400
	if testing.Short() {
		rounds = 50
	}
	var accepted, rejected int
	for round := range rounds {
		var h History
		final := map[uint64]WriteID{}
		keys := 1 + rng.IntN(4)
		for k := range uint64(keys) {
			var v WriteID
			var present bool
			h, v, present = genKey(rng, h, k, 1+rng.IntN(6))
			if present {
				final[k] = v
			}
		}
		if r := Check(h, final); !r.OK() {
			t.Fatalf("round %d: the simulated register's final state is rejected:\n%s\nhistory:\n%v", round, r, h)
		}
		groups := h.byKey()
		for k := range uint64(keys) {
			ok := reachable(groups[k])
			candidates := []WriteID{0, WriteID(len(h) + 1)} // absent, never written
			for _, op := range h {
				candidates = append(candidates, op.ID)
			}
			for _, c := range candidates {
				mutated := map[uint64]WriteID{}
				for key, v := range final {
					mutated[key] = v
				}
				delete(mutated, k)
				if c != 0 {
					mutated[k] = c
				}
				r := Check(h, mutated)
				if r.OK() != ok[c] {
					t.Fatalf("round %d key %d final %d: Check OK=%v, oracle reachable=%v\n%s\nkey's ops:\n%v", round, k, c, r.OK(), ok[c], r, groups[k])
				}
				if r.OK() {
					accepted++
				} else {
					rejected++
					if len(r.Anomalies) != 1 || r.Anomalies[0].Key != k {
						t.Fatalf("round %d: one mutated key, anomalies:\n%s", round, r)
					}
				}
			}
		}
	}
	t.Logf("%d candidate final states accepted, %d rejected, all as the oracle says", accepted, rejected)
	if accepted == 0 || rejected == 0 {
		t.Fatalf("degenerate generator: %d accepted, %d rejected", accepted, rejected)
	}
}
