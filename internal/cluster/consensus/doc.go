// Package consensus runs Raft for the cluster's metadata with etcd's raft
// library (RawNode): durable raft state (storage.go), and the driver that
// ticks the node, persists and sends its Ready, and applies committed
// operations to the cluster state machine. It is the only package that
// imports the raft library.
//
// Two rules keep peers that join at the same moment from being left
// behind:
//   - Every raft snapshot handed to the transport (Message.Snapshot) ends
//     with ReportSnapshot, delivered or not; reports wait in a set, never a
//     bounded channel, until the Run goroutine gives them to raft
//     (reports.go). Raft keeps a peer paused until it hears one.
//   - Membership changes are queued on the Run goroutine and proposed one
//     at a time, when no conf change is pending in this peer's log, and
//     again when one is not applied within two election timeouts: raft
//     takes one conf change at a time and drops the others without a word.
//     A committed change that the configuration already reflects (a
//     proposal made twice) is applied once, so a repeated AddLearner never
//     demotes a voter (members.go).
//
// A failed fsync of the raft storage (its log poisons itself, a snapshot's
// WriteFileAtomic fails; both match vfs.ErrSyncFailed) stops the peer's
// consensus: Run returns the error, the proposals in flight and every later
// one fail with ErrStopped, so no cluster operation goes on over a log whose
// durable state is unknown; a restart recovers what is really on disk
// (fsync_test.go).
//
// The Run goroutine owns the RawNode and everything marked so in Node;
// Propose, ChangeMembership, Step, Unreachable, ReportSnapshot and Status
// are safe from any goroutine.
package consensus
