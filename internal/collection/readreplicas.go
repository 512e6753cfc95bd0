package collection

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/shard"
)

// The read path of a replica set (Qdrant's execute_read_operation.rs):
// a read asks one readable replica of each shard it targets (the local
// one first), or, with a read consistency above one, several at once, and
// resolves their answers.

// resolver merges the answers of several replicas of one shard into one:
// all keeps what every answer holds (Qdrant's ResolveCondition::All),
// else what a majority of them holds.
type resolver[T any] func(answers []T, all bool) T

// fanOut runs a read on the shards the request's routing targets
// (RoutingOf(ctx): its shard keys, or every shard), each by readSet with
// the routing's read consistency, concurrently when there are several,
// and returns the answers in shard id order, or the first error in shard
// order; a context's error comes wrapped with the read's name. resolve
// merges the answers of several replicas (nil: the first answer).
func fanOut[T any](ctx context.Context, c *Collection, read string, local func(rs *ReplicaSet, sh *shard.Shard) (T, error), remote func(rs *ReplicaSet, r Remote) (T, error), resolve resolver[T]) ([]T, error) {
	sets, err := c.layout().readTargets(RoutingOf(ctx))
	if err != nil {
		return nil, err
	}
	cons := RoutingOf(ctx).Consistency
	out := make([]T, len(sets))
	errs := make([]error, len(sets))
	one := func(i int, rs *ReplicaSet) {
		out[i], errs[i] = readSet(ctx, c, rs, cons,
			func(sh *shard.Shard) (T, error) { return local(rs, sh) },
			func(r Remote) (T, error) { return remote(rs, r) }, resolve)
	}
	if len(sets) == 1 {
		one(0, sets[0])
	} else {
		var wg sync.WaitGroup
		for i, rs := range sets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				one(i, rs)
			}()
		}
		wg.Wait()
	}
	for _, err := range errs {
		switch {
		case err == nil:
		case isDone(err):
			return nil, interrupted(read, err)
		default:
			return nil, err
		}
	}
	return out, nil
}

// required is how many replicas of a shard of n a read with consistency
// cons must hear from, and whether their answers resolve by All (else by
// Majority), as Qdrant's execute_and_resolve_read_operation.
func required(cons ReadConsistency, n int) (int, bool) {
	switch cons.Kind {
	case ConsistencyAll:
		return n, true
	case ConsistencyMajority:
		return n, false
	case ConsistencyQuorum:
		return n/2 + 1, true
	}
	return min(max(cons.Factor, 1), max(n, 1)), true
}

// readSet runs a read on the replicas of rs that cons asks for. The
// default (one replica) is readFrom; more ask that many readable replicas
// concurrently, the next one replacing a replica that cannot be reached,
// and resolve their answers; fewer answers than required is an error.
func readSet[T any](ctx context.Context, c *Collection, rs *ReplicaSet, cons ReadConsistency, local func(*shard.Shard) (T, error), remote func(Remote) (T, error), resolve resolver[T]) (T, error) {
	var zero T
	if err := c.passBarrier(ctx, rs); err != nil {
		return zero, err
	}
	if cons.Kind == ConsistencyFactor && cons.Factor <= 1 {
		return readFrom(ctx, rs, local, remote)
	}
	need, all := required(cons, rs.count())
	reps := rs.readable()
	if len(reps) < need {
		return zero, point.Errorf(point.KindInternal, "The replica set for shard %d on peer %d does not have enough active replicas", rs.id, c.layout().self)
	}
	type result struct {
		v   T
		err error
	}
	results := make(chan result, len(reps))
	run := func(r replica) {
		var res result
		if r.local != nil {
			res.v, res.err = local(r.local)
		} else {
			res.v, res.err = remote(r.remote)
			if res.err != nil {
				res.err = fmt.Errorf("shard %d on peer %d: %w", rs.id, r.remote.Peer(), res.err)
			}
		}
		results <- res
	}
	next, pending := 0, 0
	for ; next < need; next++ {
		pending++
		go run(reps[next])
	}
	var answers []T
	var errs []error
	for pending > 0 && len(answers) < need {
		res := <-results
		pending--
		switch {
		case res.err == nil:
			answers = append(answers, res.v)
		case isDone(res.err) || !retryRead(res.err):
			return zero, res.err // an engine's answer or the context's end
		default:
			errs = append(errs, res.err)
			if next < len(reps) {
				pending++
				go run(reps[next])
				next++
			}
		}
	}
	if len(answers) < need {
		var b strings.Builder
		fmt.Fprintf(&b, "%d of %d read operations failed", len(errs), len(answers)+len(errs))
		if len(errs) > 0 {
			b.WriteString(":")
		}
		for _, e := range errs {
			fmt.Fprintf(&b, "\n  %v", e)
		}
		return zero, point.Errorf(point.KindInternal, "%s", b.String())
	}
	if len(answers) == 1 || resolve == nil {
		return answers[0], nil
	}
	return resolve(answers, all), nil
}

// keep reports whether an item seen in n of total answers stays.
func keep(n, total int, all bool) bool {
	if all {
		return n == total
	}
	return n > total/2
}

// resolveByID filters the answers of several replicas to the items kept
// by condition (by id: in every answer, or in a majority), each at the
// newest version any answer has; the caller merges the filtered answers
// (a point in several keeps one).
func resolveByID[T any](answers [][]T, all bool, id func(T) point.ID, version func(T) uint64) [][]T {
	seen := map[point.ID]int{}
	newest := map[point.ID]uint64{}
	for _, a := range answers {
		once := map[point.ID]bool{}
		for _, it := range a {
			k := id(it)
			if !once[k] {
				once[k] = true
				seen[k]++
			}
			newest[k] = max(newest[k], version(it))
		}
	}
	out := make([][]T, len(answers))
	for i, a := range answers {
		for _, it := range a {
			k := id(it)
			if keep(seen[k], len(answers), all) && version(it) == newest[k] {
				out[i] = append(out[i], it)
			}
		}
	}
	return out
}

func recordID(r Record) point.ID      { return r.ID }
func recordVersion(r Record) uint64   { return r.Version }
func hitID(h ScoredPoint) point.ID    { return h.ID }
func hitVersion(h ScoredPoint) uint64 { return h.Version }

// resolveRecords resolves retrieved records: kept by id, in id order.
func resolveRecords(answers [][]Record, all bool) []Record {
	parts := resolveByID(answers, all, recordID, recordVersion)
	var out []Record
	for _, p := range parts {
		out = append(out, p...)
	}
	slices.SortStableFunc(out, func(a, b Record) int { return a.ID.Compare(b.ID) })
	return slices.CompactFunc(out, func(a, b Record) bool { return a.ID == b.ID })
}

// resolveHits resolves search hits: kept by id, best first by better.
func resolveHits(better func(a, b float32) bool, limit int) resolver[[]ScoredPoint] {
	return func(answers [][]ScoredPoint, all bool) []ScoredPoint {
		return mergeHits(resolveByID(answers, all, hitID, hitVersion), better, 0, limit)
	}
}

// resolveCount resolves counts: the smallest with All, the median with
// Majority (Qdrant's CountResult).
func resolveCount(answers []int, all bool) int {
	s := slices.Clone(answers)
	slices.Sort(s)
	if all {
		return s[0]
	}
	return s[len(s)/2]
}

// resolveFacets resolves facet counts: a value kept by condition, with
// the smallest (All) or the median (Majority) of its counts.
func resolveFacets(answers [][]FacetHit, all bool) []FacetHit {
	counts := map[any][]int{}
	var order []any
	for _, a := range answers {
		for _, h := range a {
			if _, ok := counts[h.Value]; !ok {
				order = append(order, h.Value)
			}
			counts[h.Value] = append(counts[h.Value], h.Count)
		}
	}
	var out []FacetHit
	for _, v := range order {
		cs := counts[v]
		if !keep(len(cs), len(answers), all) {
			continue
		}
		slices.Sort(cs)
		n := cs[len(cs)/2]
		if all {
			n = cs[0]
		}
		out = append(out, FacetHit{Value: v, Count: n})
	}
	return out
}

// replicaLocal returns this peer's replica of shard for a read another
// peer sent: it must be readable; otherwise a KindUnavailable refusal,
// on which the sender tries another replica (its view of the states was
// behind).
func (c *Collection) replicaLocal(id ShardID) (*shard.Shard, error) {
	rs := c.layout().set(id)
	if rs == nil {
		return nil, point.Errorf(point.KindNotFound, "Shard %d of collection %s not found on this peer", id, c.name)
	}
	sh, st := rs.Local()
	if sh == nil || !st.Readable() {
		return nil, point.Errorf(point.KindUnavailable, "The replica of shard %d on this peer serves no reads (state %s)", id, st)
	}
	return sh, nil
}

// ReplicaSearch searches this peer's replica of shard only. The request
// comes from the coordinating peer: its query vector already prepared
// (QueryID resolved), Offset 0 and Limit the hits the shard must give;
// strict mode ran there.
func (c *Collection) ReplicaSearch(ctx context.Context, id ShardID, req ops.SearchRequest) ([]ScoredPoint, error) {
	sh, err := c.replicaLocal(id)
	if err != nil {
		return nil, err
	}
	if err := c.checkVectorNames(req.WithVector); err != nil {
		return nil, err
	}
	if sp, ok := c.sparseParams(req.Using); ok {
		if req.Sparse == nil {
			return nil, point.Errorf(point.KindBadInput, "Query vector is not specified")
		}
		q, err := checkSparseVector(req.Using, *req.Sparse)
		if err != nil {
			return nil, err
		}
		return searchSparseLocal(ctx, sh, req, sp, q, nil, req.Limit)
	}
	params, ok := c.vectorParams()[req.Using]
	if !ok {
		return nil, errVectorName(req.Using)
	}
	if err := checkDim(params, req.Vector); err != nil {
		return nil, err
	}
	sp := segment.SearchParams{
		Vector: req.Using, Query: req.Vector, Filter: req.Filter,
		Limit: req.Limit, Threshold: req.ScoreThreshold,
		HnswEf: req.Params.HnswEf, Exact: req.Params.Exact, IndexedOnly: req.Params.IndexedOnly,
		Quantization: quantParams(req.Params.Quantization),
	}
	var out []ScoredPoint
	sh.View(func(s *shard.Reader) {
		var hits []shard.Hit
		if hits, err = s.Search(ctx, sp, req.WithVector.Selection()); err == nil {
			out = scored(hits, req.WithPayload)
		}
	})
	return out, err
}

// ReplicaScroll scrolls this peer's replica of shard only (by id, or by
// order_by).
func (c *Collection) ReplicaScroll(ctx context.Context, id ShardID, req ops.ScrollRequest) ([]Record, *point.ID, error) {
	sh, err := c.replicaLocal(id)
	if err != nil {
		return nil, nil, err
	}
	if err := c.checkVectorNames(req.WithVector); err != nil {
		return nil, nil, err
	}
	if req.OrderBy != nil {
		from, err := startFrom(req.OrderBy)
		if err != nil {
			return nil, nil, err
		}
		recs, err := scrollOrderedLocal(ctx, sh, req, from)
		return recs, nil, err
	}
	return scrollLocal(ctx, sh, req)
}

// ReplicaCount counts in this peer's replica of shard only.
func (c *Collection) ReplicaCount(ctx context.Context, id ShardID, req ops.CountRequest) (int, error) {
	sh, err := c.replicaLocal(id)
	if err != nil {
		return 0, err
	}
	return countLocal(ctx, sh, req)
}

// ReplicaRetrieve reads points of this peer's replica of shard only.
func (c *Collection) ReplicaRetrieve(ctx context.Context, id ShardID, ids []point.ID, wp ops.PayloadSelector, wv ops.VectorSelector) ([]Record, error) {
	sh, err := c.replicaLocal(id)
	if err != nil {
		return nil, err
	}
	if err := c.checkVectorNames(wv); err != nil {
		return nil, err
	}
	return retrieveLocal(ctx, sh, ids, wp, wv)
}

// ReplicaFacet facets this peer's replica of shard only: its top Limit
// values.
func (c *Collection) ReplicaFacet(ctx context.Context, id ShardID, req ops.FacetRequest) ([]FacetHit, error) {
	sh, err := c.replicaLocal(id)
	if err != nil {
		return nil, err
	}
	return facetLocal(ctx, sh, req, req.Limit)
}

// retryRead reports whether a remote read's error sends the read to
// another replica: a transport failure, or a replica that serves no reads
// (its state changed before this peer saw it).
func retryRead(err error) bool {
	return transportErr(err) || point.KindOf(err) == point.KindUnavailable
}

// infoTimeout bounds how long collection info waits for the counts of
// the shards held by other peers.
const infoTimeout = 5 * time.Second

// clusterLen counts the points of every shard, local or not, once a
// topology is set (Qdrant's collection info counts them all); ok is false
// standalone, or when a shard could not be counted (the caller keeps the
// local count).
func (c *Collection) clusterLen() (int, bool) {
	if !c.layout().topo {
		return 0, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), infoTimeout)
	defer cancel()
	counts, err := fanOut(ctx, c, "count",
		func(_ *ReplicaSet, sh *shard.Shard) (n int, err error) {
			sh.View(func(r *shard.Reader) { n = r.Len() })
			return n, nil
		},
		func(rs *ReplicaSet, r Remote) (int, error) {
			return r.Count(ctx, c.name, rs.id, ops.CountRequest{Exact: true})
		},
		nil)
	if err != nil {
		c.log.Warn("collection info counts the local shards only", "collection", c.name, "err", err)
		return 0, false
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	return total, true
}

// readBarrierWait bounds how long a read waits for this peer's view of
// the replica states to be confirmed by the consensus leader.
var readBarrierWait = 3 * time.Second

// passBarrier makes a read of a replicated shard on a cluster wait until
// this peer applied every consensus decision made before it (Topology's
// ReadBarrier): an update acknowledged before the read had every replica
// that missed it marked Dead first, so the replicas this peer then reads
// hold it. Beyond Qdrant, which reads whatever replica its view calls
// Active: a peer cut off from the majority answers 503 instead of a value
// an acknowledged update replaced (docs/faults.md, finding 3). Before
// the first topology after a restart, no read is served.
func (c *Collection) passBarrier(ctx context.Context, rs *ReplicaSet) error {
	l := c.layout()
	if l.pending {
		// Reopened after a restart: its replicas' states are the ones
		// saved before it, maybe long outdated (Dead since, or moved).
		return point.Errorf(point.KindUnavailable, "Shard %d is waiting for the cluster's topology after a restart: the read was not served", rs.id)
	}
	if l.barrier == nil || rs.count() <= 1 {
		return nil
	}
	bctx, cancel := context.WithTimeout(ctx, readBarrierWait)
	defer cancel()
	if err := l.barrier(bctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return point.Errorf(point.KindUnavailable, "Peer %d cannot confirm its view of the replicas of shard %d with the consensus leader, the read was not served: %v", l.self, rs.id, err)
	}
	return nil
}
