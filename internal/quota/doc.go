// Package quota holds Qdrant 1.19's cluster-wide resource quota: its
// configuration (Config, which the cluster state machine stores and
// consensus spreads) and the Guard that enforces it on this node (updates
// that consume memory or disk are refused once resident memory or the
// storage file system reach their limit, until they fall a release margin
// below it).
//
// The package does no I/O of its own: the Guard reads utilization through
// the Readers it is given (internal/sysinfo's in production), so tests
// drive it with fixed readings. A Guard is safe for concurrent use.
package quota
