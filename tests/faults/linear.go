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
	DescribeOperation: func(input, output any) string {
		in := input.(regInput)
		if in.Write {
			return fmt.Sprintf("write %d", in.Value)
		}
		return fmt.Sprintf("read -> %d", output)
	},
}

// keyOps turns one key's updates and reads into porcupine operations:
// acknowledged updates, unknown ones with no end (they may take effect at
// any later time or never), acknowledged reads; refused updates and reads
// that learned nothing are left out.
func keyOps(ops []history.Op, reads []Read) []porcupine.Operation {
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
// each key within timeout; it returns the keys that are not Ok (Illegal:
// a violation; Unknown: the search timed out).
func checkLinearizable(h history.History, reads []Read, timeout time.Duration) []linResult {
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
	for _, k := range slices.Sorted(mapKeys(keys)) {
		start := time.Now()
		res := porcupine.CheckOperationsTimeout(registerModel, keyOps(ops[k], rds[k]), timeout)
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
