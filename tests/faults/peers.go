package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/clustertest/history"
)

// Peer join and removal, part of the metadata workload: a 4th shoal
// process (clustertest.Cluster.Spare) joins the running cluster through a
// random original peer (--bootstrap), and later, once its replicas are
// moved or dropped off it, is removed with DELETE /cluster/peer/{id}
// (without force: Shoal, like Qdrant, refuses to remove a peer that holds
// shards), its process stopped and its storage wiped; it may then join
// again with a fresh peer id. The joiner is left out of the nemesis: it
// is never killed or paused, and no partition names it. The nemesis
// faults one original peer at a time, so the other two and the joiner
// are always 3 of the 4 voters (and the 3 originals are a majority
// without it). Its links into the originals pass through their proxies
// and message filters, so delays and dropped messages apply to what it
// sends; partitions cut only links between originals, the joiner keeps
// its links to every side (raft does not relay; a cut-off original still
// lacks a quorum). The mode collections are created before any join,
// with a replica on each original peer, and only scratch meta-*
// collections place replicas on the joiner (those created while it is
// in, and the replicate-shard operations it sends after joining), so the
// register and search checkers read exactly the 3 original peers as
// before.

// Peer operation kinds, as named in the table.
const (
	MetaDropReplica = "drop-replica" // a replica dropped off the joiner before its removal
	MetaPeerJoin    = "peer-join"
	MetaPeerRemove  = "peer-remove"
)

// CheckPeerSet: after healing, running peers read different peer sets
// (GET /cluster), or a collection places a replica on a peer that is not
// in the peer set (a removed one).
const CheckPeerSet = "peer set disagree"

// peerWorker joins and removes the spare peer on a seeded schedule.
type peerWorker struct {
	rng       *rand.Rand
	hc        *http.Client
	now       func() time.Duration
	c         *clustertest.Cluster
	spare     *clustertest.Peer
	originals []*clustertest.Peer
	origIDs   []uint64
	log       *metaLog
	gap       [2]time.Duration // between two peer operations
	timeout   time.Duration    // of one operation

	mu sync.Mutex
	id uint64 // the joiner's peer id while it runs (0: unknown or not running)
}

// run alternates joins and removals until ctx ends; the operation in
// flight then finishes within its own timeout (the nemesis is healed by
// then).
func (w *peerWorker) run(ctx context.Context) {
	for {
		if !sleepCtx(ctx, w.gap[0]+time.Duration(w.rng.Int64N(int64(w.gap[1]-w.gap[0])+1))) {
			return
		}
		if w.spare.Running() {
			w.remove()
		} else if w.join() {
			w.populate()
		}
	}
}

// joiner is the spare's peer id while it runs, 0 when it does not.
func (w *peerWorker) joiner() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.id
}

func (w *peerWorker) origName(i int) string { return fmt.Sprintf("peer-%d", w.originals[i].Index) }

// join starts the spare with --bootstrap through a random original peer;
// it is acknowledged when the spare is ready (it knows a leader and has
// applied what the cluster committed) and the bootstrap peer lists it.
func (w *peerWorker) join() bool {
	bi := w.rng.IntN(len(w.originals))
	boot := w.originals[bi]
	op := MetaOp{Kind: MetaPeerJoin, Object: "peer ?", Peer: w.origName(bi), Invoke: w.now()}
	err := w.spare.Start(boot.URI())
	if err == nil {
		err = w.c.WaitReady(w.spare, w.timeout)
	}
	var id uint64
	if err == nil {
		var st clustertest.Status
		if st, err = w.spare.Cluster(); err == nil {
			id = st.PeerID
			op.Object = peerObject(id)
			w.mu.Lock()
			w.id = id
			w.mu.Unlock()
			err = waitFor(w.timeout, func() error {
				ids, err := peerSet(context.Background(), w.hc, boot.BaseURL())
				if err != nil {
					return err
				}
				if !slices.Contains(ids, id) {
					return fmt.Errorf("%s lists %v, not %d", op.Peer, ids, id)
				}
				return nil
			})
		}
	}
	op.Complete = w.now()
	switch {
	case err == nil:
		op.Outcome = history.OK
	case !w.spare.Running():
		op.Outcome, op.Detail = history.Fail, "exited: "+err.Error()
	default:
		// It runs and may yet join: unknown; a later removal finds out.
		op.Outcome, op.Detail, op.Complete = history.Unknown, err.Error(), history.Forever
	}
	w.log.add(op)
	return op.Outcome == history.OK
}

// populate replicates one shard of each scratch collection (as an
// original peer lists them) onto the joiner, so that its removal has
// replicas to move off; recorded as replicate-shard operations.
func (w *peerWorker) populate() {
	id := w.joiner()
	pi := w.rng.IntN(len(w.originals))
	p := w.originals[pi]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var cl struct {
		Collections []struct {
			Name string `json:"name"`
		} `json:"collections"`
	}
	if getResult(ctx, w.hc, p.BaseURL()+"/collections", &cl) != nil {
		return
	}
	for _, c := range cl.Collections {
		if !strings.HasPrefix(c.Name, "meta-") {
			continue
		}
		pl, err := readPlacementHTTP(ctx, w.hc, p.BaseURL(), c.Name)
		if err != nil || len(pl) == 0 {
			continue
		}
		shards := slices.Sorted(mapKeys(pl))
		s := shards[w.rng.IntN(len(shards))]
		if _, ok := pl[s][id]; ok {
			continue
		}
		var from []uint64
		for _, peer := range slices.Sorted(mapKeys(pl[s])) {
			if pl[s][peer] == "Active" {
				from = append(from, peer)
			}
		}
		if len(from) == 0 {
			continue
		}
		w.post(p, pi, MetaReplicateShard, c.Name, map[string]any{"replicate_shard": map[string]any{
			"shard_id": s, "from_peer_id": from[w.rng.IntN(len(from))], "to_peer_id": id}})
	}
}

// post sends one POST /collections/{c}/cluster through originals[pi] and
// records it as a metadata operation of kind.
func (w *peerWorker) post(p *clustertest.Peer, pi int, kind, coll string, body map[string]any) history.Outcome {
	b, err := json.Marshal(body)
	if err != nil {
		panic(err) // cannot happen: plain maps
	}
	op := MetaOp{Kind: kind, Object: coll, Collection: coll, Peer: w.origName(pi)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	op.Invoke = w.now()
	status, data, err := send(ctx, w.hc, http.MethodPost, p.BaseURL()+"/collections/"+url.PathEscape(coll)+"/cluster", b)
	op.Complete = w.now()
	op.Outcome, op.Detail = history.Classify(status, data, err)
	if op.Outcome == history.Unknown {
		op.Complete = history.Forever
	}
	w.log.add(op)
	return op.Outcome
}

// remove moves or drops every replica off the joiner, then sends DELETE
// /cluster/peer/{id} through a random original peer; when acknowledged
// (or answered 404: an earlier unknown removal took effect) the spare is
// stopped and wiped.
func (w *peerWorker) remove() {
	id := w.joiner()
	if id == 0 {
		st, err := w.spare.Cluster()
		if err != nil {
			return // not answering yet: try again later
		}
		id = st.PeerID
		w.mu.Lock()
		w.id = id
		w.mu.Unlock()
	}
	w.drain(id)
	pi := w.rng.IntN(len(w.originals))
	op := MetaOp{Kind: MetaPeerRemove, Object: peerObject(id), Peer: w.origName(pi)}
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	op.Invoke = w.now()
	status, data, err := send(ctx, w.hc, http.MethodDelete, w.originals[pi].BaseURL()+"/cluster/peer/"+strconv.FormatUint(id, 10), nil)
	op.Complete = w.now()
	op.Outcome, op.Detail = history.Classify(status, data, err)
	if op.Outcome == history.Unknown {
		op.Complete = history.Forever
	}
	w.log.add(op)
	if op.Outcome != history.OK && status != http.StatusNotFound {
		return
	}
	// SIGKILL: the storage goes anyway.
	_ = w.spare.Kill()
	_ = w.spare.Wipe()
	w.mu.Lock()
	w.id = 0
	w.mu.Unlock()
}

// drain moves every replica on peer id to an original peer without one
// (drops it when every original has one), as an original peer reads the
// placement, and waits up to the timeout for none to be left there. Each
// move and drop is a recorded metadata operation.
func (w *peerWorker) drain(id uint64) {
	deadline := time.Now().Add(w.timeout)
	pi := w.rng.IntN(len(w.originals))
	p := w.originals[pi]
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		held, busy, err := replicasOn(ctx, w.hc, p.BaseURL(), id)
		cancel()
		if err == nil && len(held) == 0 {
			return
		}
		if err != nil || busy {
			time.Sleep(300 * time.Millisecond)
			continue
		}
		for _, h := range held {
			var others []uint64
			for _, o := range w.origIDs {
				if !slices.Contains(h.holders, o) {
					others = append(others, o)
				}
			}
			var o history.Outcome
			if len(others) > 0 {
				o = w.post(p, pi, MetaMoveShard, h.coll, map[string]any{"move_shard": map[string]any{
					"shard_id": h.shard, "from_peer_id": id, "to_peer_id": others[w.rng.IntN(len(others))]}})
			} else {
				o = w.post(p, pi, MetaDropReplica, h.coll, map[string]any{"drop_replica": map[string]any{"shard_id": h.shard, "peer_id": id}})
			}
			if o != history.OK {
				// No leader, a transfer in the way: not the moment to send
				// the others.
				break
			}
		}
		time.Sleep(time.Second)
	}
}

// held is one replica on the peer being drained.
type held struct {
	coll    string
	shard   uint32
	holders []uint64 // every peer with a replica of the shard
}

// replicasOn lists the replicas on peer id, as base reads them; busy
// says a transfer touches one of them (wait before moving again).
func replicasOn(ctx context.Context, hc *http.Client, base string, id uint64) (out []held, busy bool, err error) {
	var cl struct {
		Collections []struct {
			Name string `json:"name"`
		} `json:"collections"`
	}
	if err := getResult(ctx, hc, base+"/collections", &cl); err != nil {
		return nil, false, err
	}
	for _, c := range cl.Collections {
		var ci collInfo
		if err := getResult(ctx, hc, base+"/collections/"+url.PathEscape(c.Name)+"/cluster", &ci); err != nil {
			return nil, false, err
		}
		pl := placementOf(ci)
		for _, s := range slices.Sorted(mapKeys(pl)) {
			if _, ok := pl[s][id]; ok {
				out = append(out, held{coll: c.Name, shard: s, holders: slices.Sorted(mapKeys(pl[s]))})
			}
		}
		for _, raw := range ci.ShardTransfers {
			var t struct {
				From uint64 `json:"from"`
				To   uint64 `json:"to"`
			}
			if json.Unmarshal(raw, &t) == nil && (t.From == id || t.To == id) {
				busy = true
			}
		}
	}
	return out, busy, nil
}

// peerObject names a peer as a MetaOp's object.
func peerObject(id uint64) string { return "peer " + strconv.FormatUint(id, 10) }

// peerSet reads the peer ids GET /cluster lists through base, sorted.
func peerSet(ctx context.Context, hc *http.Client, base string) ([]uint64, error) {
	var st struct {
		Peers map[string]json.RawMessage `json:"peers"`
	}
	if err := getResult(ctx, hc, base+"/cluster", &st); err != nil {
		return nil, err
	}
	var ids []uint64
	for k := range st.Peers {
		id, err := strconv.ParseUint(k, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("GET %s/cluster: peer id %q: %w", base, k, err)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// checkPeers judges the peer set every peer (named by names) reads at
// the end against the peer operations (that they read the same set is
// metaDisagreements' business, as the wait for agreement covers it): no
// collection places a replica on a peer outside it; an acknowledged join
// is listed unless a removal of that peer may have followed; an
// acknowledged removal is not listed (peer ids are never reused: a
// rejoin has a fresh one).
func checkPeers(ops []MetaOp, names []string, views []metaView) []metaFinding {
	var out []metaFinding
	for i, v := range views {
		for _, c := range slices.Sorted(mapKeys(v.Placement)) {
			for _, s := range slices.Sorted(mapKeys(v.Placement[c])) {
				for _, peer := range slices.Sorted(mapKeys(v.Placement[c][s])) {
					if !slices.Contains(v.Peers, peer) {
						out = append(out, metaFinding{checker: CheckPeerSet, why: fmt.Sprintf("%s: shard %d of %s has a replica on peer %d, not in its peer set %v", names[i], s, c, peer, v.Peers)})
					}
				}
			}
		}
	}
	for _, o := range ops {
		if o.Outcome != history.OK || (o.Kind != MetaPeerJoin && o.Kind != MetaPeerRemove) {
			continue
		}
		want := o.Kind == MetaPeerJoin
		if want && slices.ContainsFunc(ops, func(x MetaOp) bool {
			return x.Kind == MetaPeerRemove && x.Object == o.Object && mayFollow(x.asOp(), o.asOp())
		}) {
			continue
		}
		num, _ := strings.CutPrefix(o.Object, "peer ")
		id, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			continue // cannot happen: an acknowledged join knows its id
		}
		var bad []string
		for i, v := range views {
			if slices.Contains(v.Peers, id) != want {
				bad = append(bad, names[i])
			}
		}
		if len(bad) > 0 {
			state := "absent"
			if !want {
				state = "listed"
			}
			out = append(out, metaFinding{checker: CheckMetaLost, op: o,
				why: fmt.Sprintf("%s acknowledged, yet peer %d is %s at the end on %v, and no operation may have undone it", o, id, state, bad)})
		}
	}
	return out
}
