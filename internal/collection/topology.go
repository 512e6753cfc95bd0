package collection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
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
}

// ErrNotImplemented marks a stub of the contract not filled in yet.
var ErrNotImplemented = errors.New("not implemented yet")

// ErrOutcomeUnknown marks an update that may or may not have been applied
// (a replica or the ordering leader did not answer, or too few replicas
// applied it): the client must not take it as failed. Its text says "the
// outcome is unknown".
var ErrOutcomeUnknown = errors.New("the outcome of the update is unknown")

// SetTopology brings the collection in line with t (i13/replicas): opens
// empty local shards for the replicas placed on t.Self, drops the local
// shards whose replica left it, and sets the replica states and remote
// replicas. The node calls it after every committed change, in log order;
// calling it again with the same t changes nothing.
func (c *Collection) SetTopology(t Topology) error {
	return fmt.Errorf("collection %s: SetTopology: %w", c.name, ErrNotImplemented)
}

// ReplicaUpdate is an update a peer sent to this peer's replica of shard
// (i13/replicas): with opts.Tag set, the local replica applies it if its
// state takes updates and the tag is accepted (a rejection is a result,
// not an error); with no tag, this peer coordinates it for the shard as
// the ordering leader.
func (c *Collection) ReplicaUpdate(ctx context.Context, shard ShardID, op *ops.Operation, opts RemoteUpdate) (RemoteUpdateResult, error) {
	return RemoteUpdateResult{}, fmt.Errorf("collection %s: ReplicaUpdate: %w", c.name, ErrNotImplemented)
}

// ReplicaSearch searches this peer's replica of shard only (i13/replicas).
func (c *Collection) ReplicaSearch(ctx context.Context, shard ShardID, req ops.SearchRequest) ([]ScoredPoint, error) {
	return nil, fmt.Errorf("collection %s: ReplicaSearch: %w", c.name, ErrNotImplemented)
}

// ReplicaScroll scrolls this peer's replica of shard only (i13/replicas).
func (c *Collection) ReplicaScroll(ctx context.Context, shard ShardID, req ops.ScrollRequest) ([]Record, *point.ID, error) {
	return nil, nil, fmt.Errorf("collection %s: ReplicaScroll: %w", c.name, ErrNotImplemented)
}

// ReplicaCount counts in this peer's replica of shard only (i13/replicas).
func (c *Collection) ReplicaCount(ctx context.Context, shard ShardID, req ops.CountRequest) (int, error) {
	return 0, fmt.Errorf("collection %s: ReplicaCount: %w", c.name, ErrNotImplemented)
}

// ReplicaRetrieve reads points of this peer's replica of shard only
// (i13/replicas).
func (c *Collection) ReplicaRetrieve(ctx context.Context, shard ShardID, ids []point.ID, wp ops.PayloadSelector, wv ops.VectorSelector) ([]Record, error) {
	return nil, fmt.Errorf("collection %s: ReplicaRetrieve: %w", c.name, ErrNotImplemented)
}

// ReplicaFacet facets this peer's replica of shard only (i13/replicas).
func (c *Collection) ReplicaFacet(ctx context.Context, shard ShardID, req ops.FacetRequest) ([]FacetHit, error) {
	return nil, fmt.Errorf("collection %s: ReplicaFacet: %w", c.name, ErrNotImplemented)
}

// CreateShardKey adds the shards of a new key to a standalone collection
// with custom sharding (i13/replicas): shards local and Active, ids after
// the highest (the first key's start at 1), Qdrant's error texts.
func (c *Collection) CreateShardKey(key ShardKey, shards int) error {
	return fmt.Errorf("collection %s: CreateShardKey: %w", c.name, ErrNotImplemented)
}

// DropShardKey drops a standalone collection's shard key with its shards
// (i13/replicas).
func (c *Collection) DropShardKey(key ShardKey) error {
	return fmt.Errorf("collection %s: DropShardKey: %w", c.name, ErrNotImplemented)
}

// ShardKeys lists the shard keys, sorted (i13/replicas).
func (c *Collection) ShardKeys() []ShardKey { return nil }

// ShardInfo is one replica of one shard, for GET /collections/{c}/cluster.
type ShardInfo struct {
	ID          ShardID
	Key         ShardKey // "" with auto sharding
	Peer        uint64
	Local       bool
	State       ReplicaState
	PointsCount int // local replicas only
}

// ShardInfos lists every replica of every shard, by shard id then peer
// (i13/replicas). Until then: the local replicas, as Active with peer 0.
func (c *Collection) ShardInfos() []ShardInfo {
	var out []ShardInfo
	for _, rs := range c.Shards() {
		l, st := rs.Local()
		if l == nil {
			continue
		}
		n := 0
		l.View(func(r *shard.Reader) { n = r.Len() })
		out = append(out, ShardInfo{ID: rs.ID(), Local: true, State: st, PointsCount: n})
	}
	return out
}
