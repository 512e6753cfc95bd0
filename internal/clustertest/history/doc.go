// Package history records the concurrent updates that clients send to a
// Qdrant-compatible REST endpoint and checks, per point id, that the state
// the cluster ends in is one those updates could have produced: a
// Jepsen-style checker of a register per key. Only tests (and the
// benchmarks under bench/) import it.
//
// # Model
//
// Every point id is a register. An upsert writes a value that names the
// update uniquely (its WriteID, stored in the payload field PayloadField);
// a delete writes "absent"; before any update the register is absent. Each
// update is recorded with the peer it was sent to, its invoke and complete
// times (monotonic, relative to the Recorder's start) and its outcome:
//
//   - OK: the server acknowledged it (2xx): it took effect, once, somewhere
//     between invoke and complete.
//   - Fail: a definite refusal (see Classify): it never takes effect.
//   - Unknown: a timeout, a reset connection, a 5xx, an answer that says the
//     outcome is unknown, or an update still in flight when the history was
//     taken. It may take effect at any moment after its invoke, even long
//     after the client gave up, or never; its complete time therefore
//     bounds nothing.
//
// # What Check proves
//
// Given the history and the final state (read after the cluster healed
// and every acknowledged update completed, e.g. by ReadFinal), Check
// decides for every key whether some linearization of the key's updates
// ends in that state: the acknowledged updates, any subset of the unknown
// ones, no failed one, ordered consistently with real time (an update
// that completed before another was invoked comes first). For one key's
// final value this condition is exact:
//
//   - a value written by upsert W is possible iff W did not fail and no
//     acknowledged update X (upsert or delete) has W.Complete < X.Invoke
//     (W unknown: never, its completion is unbounded);
//   - absence is possible iff no upsert was acknowledged, or some delete
//     that did not fail is followed in real time by no acknowledged upsert.
//
// An impossible final state is reported as one anomaly of the key: Lost
// (an acknowledged upsert was overwritten by an older write, vanished, or
// the value was never written by anyone), Resurrected (an acknowledged
// delete was undone by an older upsert) or FailedVisible (the state comes
// from an update answered with a definite refusal). The checker is sound:
// it never reports an anomaly for a history a correct register could
// produce (random_test.go holds it against a brute-force search over
// linearizations).
//
// Acknowledged means applied: Client sends every update with ?wait=true.
//
// What it cannot see: it checks final states, not reads (none are
// recorded), so a stale or non-monotonic read during the run, a value
// that flickered and came back, or two replicas that disagreed for a
// while and then converged go unnoticed; a lost update that a later acknowledged write of the same
// key overwrote anyway leaves no trace; and it judges one key at a time
// (no multi-key or per-shard ordering). Divergent replicas are the job of
// CompareReplicas, read after the run.
//
// # Thread-safety
//
// A Recorder and a Client are safe for concurrent use; History, Report and
// the dumps are plain values.
package history
