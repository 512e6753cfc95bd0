package collection

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/shoaldb/shoal/internal/point"
)

// The contract of a distributed collection: how the node hands the
// collection the placement consensus committed (Topology), how a request
// says which replicas it wants (Routing), and the replica-side entry points
// the P2P service calls (Replica*).

// ShardKey is a user-defined shard key (custom sharding) as its canonical
// JSON text: a string ("\"eu\"") or an unsigned integer ("12"), the form
// of internal/cluster's ShardKey, so the node converts with a cast.
type ShardKey string

// ParseShardKey validates a shard key's JSON (a string or an integer in
// uint64) and returns its canonical form.
func ParseShardKey(raw []byte) (ShardKey, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return "", point.Errorf(point.KindBadInput, "Shard key is empty")
	}
	if s[0] == '"' {
		var v string
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return "", point.Errorf(point.KindBadInput, "Shard key is not a valid string: %v", err)
		}
		b, _ := json.Marshal(v) // the canonical form internal/cluster uses too
		return ShardKey(b), nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return "", point.Errorf(point.KindBadInput, "Shard key must be a string or an unsigned integer, got %s", s)
	}
	return ShardKey(strconv.FormatUint(n, 10)), nil
}

// String is the key as Qdrant prints it: a string without quotes, a
// number as digits.
func (k ShardKey) String() string {
	var v string
	if json.Unmarshal([]byte(k), &v) == nil {
		return v
	}
	return string(k)
}

// ReadConsistencyKind is Qdrant's ReadConsistency variant.
type ReadConsistencyKind uint8

// The read consistencies: Factor(n) (the zero value, with n 0 meaning 1)
// asks n replicas of each shard; Majority n/2+1 of them; Quorum and All
// every replica (keeping the points on a majority, or on all, of them).
const (
	ConsistencyFactor ReadConsistencyKind = iota
	ConsistencyMajority
	ConsistencyQuorum
	ConsistencyAll
)

// ReadConsistency is a read's `consistency` parameter.
type ReadConsistency struct {
	Kind   ReadConsistencyKind
	Factor int // for ConsistencyFactor; 0 means 1
}

// ParseReadConsistency parses the `consistency` query parameter: a
// positive integer, majority, quorum or all.
func ParseReadConsistency(s string) (ReadConsistency, error) {
	switch s {
	case "majority":
		return ReadConsistency{Kind: ConsistencyMajority}, nil
	case "quorum":
		return ReadConsistency{Kind: ConsistencyQuorum}, nil
	case "all":
		return ReadConsistency{Kind: ConsistencyAll}, nil
	}
	n, err := strconv.ParseUint(s, 10, 31)
	if err != nil || n == 0 {
		return ReadConsistency{}, point.Errorf(point.KindBadRequest, "consistency: expected a positive integer, majority, quorum or all, got %q", s)
	}
	return ReadConsistency{Kind: ConsistencyFactor, Factor: int(n)}, nil
}

// Routing is how one request reaches the replicas: the API layer sets it
// from the request's parameters (WithRouting) and the collection reads it
// (RoutingOf). The zero value is Qdrant's default: weak ordering, one
// replica per shard, every shard.
type Routing struct {
	Ordering    WriteOrdering
	Consistency ReadConsistency
	// ShardKeys select the shards of these keys (custom sharding); nil:
	// every shard for a read.
	ShardKeys []ShardKey
	// Fallback is ShardKeyWithFallback's fallback key ("" none): used
	// when the target key (ShardKeys[0]) does not exist.
	Fallback ShardKey
}

type routingKey struct{}

// WithRouting returns ctx carrying r.
func WithRouting(ctx context.Context, r Routing) context.Context {
	return context.WithValue(ctx, routingKey{}, r)
}

// RoutingOf returns the routing ctx carries (the zero Routing when none).
func RoutingOf(ctx context.Context) Routing {
	r, _ := ctx.Value(routingKey{}).(Routing)
	return r
}

// ShardPlacement is one shard as consensus placed it.
type ShardPlacement struct {
	ID  ShardID
	Key ShardKey // "" with auto sharding
	// States are the replicas by peer, this peer's included when it holds
	// one.
	States map[uint64]ReplicaState
}

// FailureReporter is told of a replica that failed an update while
// others applied it: the node proposes to consensus that it is Dead (from
// the state it had), Qdrant's notify_peer_failure.
type FailureReporter interface {
	ReplicaFailed(collection string, shard ShardID, peer uint64, from ReplicaState, cause error)
}

// Topology is a collection's shards as consensus committed them, seen from
// one peer.
type Topology struct {
	Self   uint64
	Custom bool // custom sharding: shards come with shard keys
	Shards []ShardPlacement
	// WriteConsistencyFactor: how many replicas must apply an update.
	WriteConsistencyFactor int
	// Remote returns the P2P client of a peer.
	Remote   func(peer uint64) Remote
	Reporter FailureReporter
	// ReadBarrier, when set, returns once this peer applied every
	// consensus decision made before the call: a read of a replicated
	// shard passes it before it picks replicas, so that a replica marked
	// Dead before an update was acknowledged is not read after (a peer
	// cut off from the majority cannot pass it).
	ReadBarrier func(ctx context.Context) error
	// PayloadSchema is the collection's payload indexes as consensus
	// committed them (field name -> field_schema): listed in
	// payload_schema, and built on every local replica (payload_schema.go).
	PayloadSchema map[string]json.RawMessage
}

// ErrNotImplemented marks a stub of the contract not filled in yet (none
// is left; kept for the callers that test for it).
var ErrNotImplemented = errors.New("not implemented yet")

// ErrOutcomeUnknown marks an update that may or may not have been applied
// (a replica or the ordering leader did not answer, or too few replicas
// applied it): the client must not take it as failed. Its text says "the
// outcome is unknown".
var ErrOutcomeUnknown = errors.New("the outcome of the update is unknown")
