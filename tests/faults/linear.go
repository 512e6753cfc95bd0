package faults

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/shoaldb/shoal/internal/clustertest/history"
)

// regInput is one register operation for porcupine: a write of Value
// (0 deletes) or a read.
type regInput struct {
	Write bool
	Value history.WriteID
}

// registerModel is a register per key whose initial state is absent (0).
var registerModel = porcupine.Model{
	Init: func() any { return history.WriteID(0) },
	Step: func(state, input, output any) (bool, any) {
		in := input.(regInput)
		if in.Write {
			return true, in.Value
		}
		return output.(history.WriteID) == state.(history.WriteID), state
	},
	Equal: func(a, b any) bool { return a == b },
	Hash:  func(state any) uint64 { return uint64(state.(history.WriteID)) },
	DescribeOperation: func(input, output any) string {
		in := input.(regInput)
		if in.Write {
			return fmt.Sprintf("write %d", in.Value)
		}
		return fmt.Sprintf("read -> %d", output)
	},
}

// keyOps turns one key's updates and reads into porcupine operations:
// acknowledged updates; refused updates and reads that learned nothing
// are left out. An unknown upsert may take effect at any later time or
// never, which makes porcupine's search explode when it stays open to
// the end; since every upsert writes a value of its own, it is patched as
// etcd's robustness tests do: one that no read observed is dropped (a
// linearization with it never taking effect is as good: nobody read its
// value), one that a read observed ends when the first such read
// returned. Unknown deletes stay open to the end (their value, absence,
// is not theirs alone).
func keyOps(ops []history.Op, reads []Read) []porcupine.Operation {
	seen := map[history.WriteID]time.Duration{} // value -> earliest return of a read of it
	for _, r := range reads {
		if r.Outcome != history.OK || r.Value == 0 {
			continue
		}
		if t, ok := seen[r.Value]; !ok || r.Complete < t {
			seen[r.Value] = r.Complete
		}
	}
	var out []porcupine.Operation
	for _, op := range ops {
		if op.Outcome == history.Fail {
			continue
		}
		v := op.ID
		if op.Kind == history.Delete {
			v = 0
		}
		ret := int64(op.Complete)
		if op.Outcome == history.Unknown {
			ret = math.MaxInt64
			if op.Kind == history.Upsert {
				t, ok := seen[v]
				if !ok {
					continue
				}
				ret = int64(max(t, op.Invoke))
			}
		}
		out = append(out, porcupine.Operation{Input: regInput{Write: true, Value: v}, Call: int64(op.Invoke), Return: ret, Output: history.WriteID(0)})
	}
	for _, r := range reads {
		if r.Outcome != history.OK {
			continue
		}
		out = append(out, porcupine.Operation{Input: regInput{}, Call: int64(r.Invoke), Return: int64(r.Complete), Output: r.Value})
	}
	return out
}

// linResult is the verdict on one key.
type linResult struct {
	Key     uint64
	Result  porcupine.CheckResult
	Ops     []history.Op
	Reads   []Read
	Elapsed time.Duration
}

// checkLinearizable checks every key's register history with porcupine,
// each key within perKey and all within budget (keys left when the
// budget is spent are Unknown without a search); it returns the keys
// that are not Ok (Illegal: not linearizable; Unknown: undecided).
func checkLinearizable(h history.History, reads []Read, perKey, budget time.Duration) []linResult {
	ops := map[uint64][]history.Op{}
	for _, op := range h {
		ops[op.Key] = append(ops[op.Key], op)
	}
	rds := map[uint64][]Read{}
	for _, r := range reads {
		rds[r.Key] = append(rds[r.Key], r)
	}
	keys := map[uint64]bool{}
	for k := range ops {
		keys[k] = true
	}
	for k := range rds {
		keys[k] = true
	}
	var bad []linResult
	deadline := time.Now().Add(budget)
	for _, k := range slices.Sorted(mapKeys(keys)) {
		start := time.Now()
		res := porcupine.Unknown
		if left := time.Until(deadline); left > 0 {
			res = porcupine.CheckOperationsTimeout(registerModel, keyOps(ops[k], rds[k]), min(perKey, left))
		}
		if res != porcupine.Ok {
			bad = append(bad, linResult{Key: k, Result: res, Ops: ops[k], Reads: rds[k], Elapsed: time.Since(start)})
		}
	}
	return bad
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// stale is a read that returned a value an acknowledged update had
// certainly replaced before the read began.
type stale struct {
	read Read
	why  string
}

// staleReads finds the reads that break "a read invoked after an update's
// 200 sees that update or a later one": a read of write V (or of absence)
// is stale when an acknowledged update X completed before the read was
// invoked and every update that could have written the value read had
// certainly taken effect before X began (completed, not failed, before
// X's invoke). Unknown updates may take effect at any later time, so a
// value an unknown update wrote is never stale, nor absence while an
// unknown delete exists.
func staleReads(h history.History, reads []Read) []stale {
	byKey := map[uint64][]history.Op{}
	byID := map[history.WriteID]history.Op{}
	for _, op := range h {
		byKey[op.Key] = append(byKey[op.Key], op)
		byID[op.ID] = op
	}
	var out []stale
	for _, r := range reads {
		if r.Outcome != history.OK {
			continue
		}
		ops := byKey[r.Key]
		// writers: the updates that could have written the value read.
		var writers []history.Op
		if r.Value != 0 {
			w, ok := byID[r.Value]
			if !ok || w.Key != r.Key || w.Kind != history.Upsert || w.Outcome == history.Fail {
				continue // phantom or refused: other checkers' business
			}
			writers = append(writers, w)
		} else {
			for _, op := range ops {
				if op.Kind == history.Delete && op.Outcome != history.Fail {
					writers = append(writers, op)
				}
			}
			// With no delete, absence is the initial state: stale once an
			// acknowledged upsert completed before the read.
		}
		for _, x := range ops {
			if x.Outcome != history.OK || x.Complete >= r.Invoke {
				continue
			}
			if r.Value == 0 && x.Kind == history.Delete {
				continue
			}
			all := true
			for _, w := range writers {
				if w.ID == x.ID || w.Outcome == history.Unknown || w.Complete >= x.Invoke {
					all = false
					break
				}
			}
			if all {
				out = append(out, stale{read: r, why: fmt.Sprintf("key %d: %s, yet %s had completed before it and certainly after what it read", r.Key, r, x)})
				break
			}
		}
	}
	return out
}
