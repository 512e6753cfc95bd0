package faults

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/clustertest/history"
)

// The metadata workload: one client, seeded by the run's seed, sends
// collection, alias, payload index and shard placement changes through
// random peers, slowly (one every 200-500 ms) so that the register
// workload dominates. Every change goes through raft (payload indexes
// through the shards' update path in Shoal) and every mode promises the
// same of it: after healing every peer reads the same metadata, and an
// acknowledged change is not undone unless a later change may undo it.

// Metadata operation kinds, as named in the table.
const (
	MetaCreateCollection = "create-collection"
	MetaDeleteCollection = "delete-collection"
	MetaCreateAlias      = "create-alias"
	MetaDeleteAlias      = "delete-alias"
	MetaRenameAlias      = "rename-alias"
	MetaCreateIndex      = "create-index"
	MetaDeleteIndex      = "delete-index"
	MetaMoveShard        = "move-shard"
	MetaReplicateShard   = "replicate-shard"
)

// MetaKinds lists every metadata operation kind in table order.
var MetaKinds = []string{MetaCreateCollection, MetaDeleteCollection, MetaCreateAlias, MetaDeleteAlias,
	MetaRenameAlias, MetaCreateIndex, MetaDeleteIndex, MetaMoveShard, MetaReplicateShard,
	MetaDropReplica, MetaPeerJoin, MetaPeerRemove}

// Metadata checkers, as named in the table; every mode promises them.
const (
	// CheckMetaDisagree: after healing, peers still read different
	// collections, aliases, payload_schema keys or shard placements when
	// the convergence bound is over.
	CheckMetaDisagree = "metadata peers disagree"
	// CheckMetaSchema: the same for a collection's payload_schema keys,
	// counted apart (docs/faults.md, finding 7, fixed).
	CheckMetaSchema = "metadata payload_schema disagree"
	// CheckMetaLost: an acknowledged create (collection, alias, payload
	// index) whose object is absent at the end although no operation that
	// may delete it may have followed, or an acknowledged delete whose
	// object is present with no create that may have followed.
	CheckMetaLost = "metadata lost"
	// CheckMetaIndexLost: the same for a payload index, counted apart: a
	// replica a transfer created or refilled came without the indexes of
	// the others while they lived only in the shards (docs/faults.md,
	// finding 7, fixed).
	CheckMetaIndexLost = "metadata payload index lost"
)

// MetaCheckers lists the metadata checkers in table order.
var MetaCheckers = []string{CheckMetaDisagree, CheckMetaSchema, CheckMetaLost, CheckMetaIndexLost, CheckPeerSet}

// metaOpen lists the metadata checkers whose findings are known open bugs:
// counted and printed, not failing a run. None now: payload_schema
// disagreements and lost payload indexes (docs/faults.md, finding 7:
// Shoal applied payload index changes through the shards only) ended
// when index changes went through consensus, as in Qdrant 1.19; both
// are still counted apart.
var metaOpen = map[string]bool{}

// metaMode is the Violation.Mode of a metadata finding.
const metaMode = "metadata"

const (
	metaCollections = 4 // meta-0..meta-3
	metaAliases     = 4 // meta-alias-0..meta-alias-3
)

var metaFields = []string{"meta_f0", "meta_f1"}

// MetaOp is one recorded metadata operation.
type MetaOp struct {
	ID   int
	Kind string
	// Object is the collection, the alias (the new name of a rename) or
	// the payload index's field.
	Object string
	Old    string // a rename's old alias name
	// Collection is an alias's target, an index's collection, the
	// collection whose shard moves.
	Collection string
	Peer       string
	Invoke     time.Duration
	Complete   time.Duration
	Outcome    history.Outcome
	Detail     string
}

func (o MetaOp) String() string {
	s := fmt.Sprintf("meta#%d %s %s", o.ID, o.Kind, o.Object)
	if o.Old != "" {
		s = fmt.Sprintf("meta#%d %s %s -> %s", o.ID, o.Kind, o.Old, o.Object)
	}
	if o.Collection != "" && o.Collection != o.Object {
		s += " on " + o.Collection
	}
	end := "…"
	if o.Complete != history.Forever {
		end = fmt.Sprintf("%.3fms", float64(o.Complete)/1e6)
	}
	s += fmt.Sprintf(" via %s [%.3fms, %s] %s", o.Peer, float64(o.Invoke)/1e6, end, o.Outcome)
	if o.Detail != "" && o.Outcome != history.OK {
		s += " (" + o.Detail + ")"
	}
	return s
}

// asOp is o in history.Op's terms, for mayFollow.
func (o MetaOp) asOp() history.Op {
	return history.Op{ID: history.WriteID(o.ID), Invoke: o.Invoke, Complete: o.Complete, Outcome: o.Outcome}
}

// metaLog records the metadata operations; safe for concurrent use.
type metaLog struct {
	mu  sync.Mutex
	all []MetaOp
}

func (l *metaLog) add(o MetaOp) {
	l.mu.Lock()
	o.ID = len(l.all) + 1
	l.all = append(l.all, o)
	l.mu.Unlock()
}

func (l *metaLog) list() []MetaOp {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.all)
}

// metaWorker sends the metadata operations.
type metaWorker struct {
	rng     *rand.Rand
	hc      *http.Client
	now     func() time.Duration
	peers   []*clustertest.Peer
	ids     []uint64 // peer id by index
	modes   []string // the mode collections (payload indexes only)
	log     *metaLog
	timeout time.Duration
}

func (w *metaWorker) run(ctx context.Context) {
	for ctx.Err() == nil {
		w.step(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(200+w.rng.IntN(300)) * time.Millisecond):
		}
	}
}

// step sends one random metadata operation through a random peer; one
// still in flight when ctx ends is unknown.
func (w *metaWorker) step(ctx context.Context) {
	p := w.peers[w.rng.IntN(len(w.peers))]
	scratch := fmt.Sprintf("meta-%d", w.rng.IntN(metaCollections))
	// Most operations but creates aim at a scratch collection that
	// exists, as p lists them now (not recorded), so that more succeed.
	if live := w.scratchLive(p); len(live) > 0 && w.rng.IntN(4) > 0 {
		scratch = live[w.rng.IntN(len(live))]
	}
	ai := w.rng.IntN(metaAliases)
	alias := fmt.Sprintf("meta-alias-%d", ai)
	op := MetaOp{Peer: fmt.Sprintf("peer-%d", p.Index)}
	var method, path string
	var body any
	switch n := w.rng.IntN(100); {
	case n < 25:
		scratch = fmt.Sprintf("meta-%d", w.rng.IntN(metaCollections))
		op.Kind, op.Object = MetaCreateCollection, scratch
		method, path = http.MethodPut, "/collections/"+scratch
		body = map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"},
			"shard_number": 1 + w.rng.IntN(2), "replication_factor": 2 + w.rng.IntN(2)}
	case n < 32:
		op.Kind, op.Object = MetaDeleteCollection, scratch
		method, path = http.MethodDelete, "/collections/"+scratch
	case n < 46:
		op.Kind, op.Object, op.Collection = MetaCreateAlias, alias, scratch
		method, path = http.MethodPost, "/collections/aliases"
		body = map[string]any{"actions": []any{map[string]any{"create_alias": map[string]any{"collection_name": scratch, "alias_name": alias}}}}
	case n < 52:
		op.Kind, op.Object = MetaDeleteAlias, alias
		method, path = http.MethodPost, "/collections/aliases"
		body = map[string]any{"actions": []any{map[string]any{"delete_alias": map[string]any{"alias_name": alias}}}}
	case n < 59:
		// Another name: a rename onto itself leaves the alias in place,
		// which the checker would read as the old name not removed.
		to := fmt.Sprintf("meta-alias-%d", (ai+1+w.rng.IntN(metaAliases-1))%metaAliases)
		op.Kind, op.Object, op.Old = MetaRenameAlias, to, alias
		method, path = http.MethodPost, "/collections/aliases"
		body = map[string]any{"actions": []any{map[string]any{"rename_alias": map[string]any{"old_alias_name": alias, "new_alias_name": to}}}}
	case n < 83:
		c := scratch
		if w.rng.IntN(2) == 0 {
			c = w.modes[w.rng.IntN(len(w.modes))]
		}
		field := metaFields[w.rng.IntN(len(metaFields))]
		op.Object, op.Collection = field, c
		if n < 74 {
			op.Kind = MetaCreateIndex
			method, path = http.MethodPut, "/collections/"+c+"/index?wait=true"
			body = map[string]any{"field_name": field, "field_schema": []string{"keyword", "integer"}[w.rng.IntN(2)]}
		} else {
			op.Kind = MetaDeleteIndex
			method, path = http.MethodDelete, "/collections/"+c+"/index/"+url.PathEscape(field)+"?wait=true"
		}
	default:
		op.Kind, op.Object, op.Collection = MetaReplicateShard, scratch, scratch
		key := "replicate_shard"
		if n < 92 {
			op.Kind, key = MetaMoveShard, "move_shard"
		}
		method, path = http.MethodPost, "/collections/"+scratch+"/cluster"
		body = map[string]any{key: w.transfer(p, scratch)}
	}
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			panic(err) // cannot happen: plain maps
		}
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	op.Invoke = w.now()
	status, data, err := send(ctx, w.hc, method, p.BaseURL()+path, b)
	op.Complete = w.now()
	op.Outcome, op.Detail = history.Classify(status, data, err)
	if op.Outcome == history.Unknown {
		op.Complete = history.Forever
	}
	w.log.add(op)
}

// scratchLive lists the scratch collections p reads now (nil when it
// does not answer within 2 s).
func (w *metaWorker) scratchLive(p *clustertest.Peer) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var cl struct {
		Collections []struct {
			Name string `json:"name"`
		} `json:"collections"`
	}
	if err := getResult(ctx, w.hc, p.BaseURL()+"/collections", &cl); err != nil {
		return nil
	}
	var out []string
	for _, c := range cl.Collections {
		if strings.HasPrefix(c.Name, "meta-") {
			out = append(out, c.Name)
		}
	}
	slices.Sort(out)
	return out
}

// transfer picks a shard of coll and two peers for a move or replicate:
// from a peer that holds the shard to one that does not, as peer p reads
// the placement now; random ones when it cannot tell.
func (w *metaWorker) transfer(p *clustertest.Peer, coll string) map[string]any {
	from, to := w.rng.IntN(len(w.ids)), w.rng.IntN(len(w.ids))
	shard := uint32(w.rng.IntN(2))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if pl, err := readPlacementHTTP(ctx, w.hc, p.BaseURL(), coll); err == nil && len(pl) > 0 {
		shards := slices.Sorted(maps.Keys(pl))
		shard = shards[w.rng.IntN(len(shards))]
		var holders, others []int
		for i, id := range w.ids {
			if st, ok := pl[shard][id]; ok && st == "Active" {
				holders = append(holders, i)
			} else if !ok {
				others = append(others, i)
			}
		}
		if len(holders) > 0 {
			from = holders[w.rng.IntN(len(holders))]
		}
		if len(others) > 0 {
			to = others[w.rng.IntN(len(others))]
		}
	}
	t := map[string]any{"shard_id": shard, "from_peer_id": w.ids[from], "to_peer_id": w.ids[to]}
	if m := []string{"", "stream_records", "snapshot", "wal_delta"}[w.rng.IntN(4)]; m != "" {
		t["method"] = m
	}
	return t
}

// readPlacementHTTP reads GET /collections/{c}/cluster through base.
func readPlacementHTTP(ctx context.Context, hc *http.Client, base, coll string) (placement, error) {
	var ci collInfo
	if err := getResult(ctx, hc, base+"/collections/"+url.PathEscape(coll)+"/cluster", &ci); err != nil {
		return nil, err
	}
	out := placement{}
	add := func(s uint32, peer uint64, st string) {
		if out[s] == nil {
			out[s] = map[uint64]string{}
		}
		out[s][peer] = st
	}
	for _, l := range ci.LocalShards {
		add(l.ShardID, ci.PeerID, l.State)
	}
	for _, r := range ci.RemoteShards {
		add(r.ShardID, r.PeerID, r.State)
	}
	return out, nil
}

// getResult GETs u and decodes the envelope's result into out.
func getResult(ctx context.Context, hc *http.Client, u string, out any) error {
	status, body, err := get(ctx, hc, u)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", u, status, history.ErrorText(body))
	}
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return json.Unmarshal(env.Result, out)
}

// metaView is the metadata one peer reads.
type metaView struct {
	Collections []string
	Aliases     map[string]string    // alias -> collection
	Schema      map[string][]string  // collection -> payload_schema keys
	Placement   map[string]placement // collection -> shard -> peer -> state
	Peers       []uint64             // GET /cluster's peer ids, sorted
}

// readMetaView reads a peer's metadata: GET /collections, GET /aliases,
// and per collection GET /collections/{c} and its /cluster.
func readMetaView(ctx context.Context, hc *http.Client, base string) (metaView, error) {
	v := metaView{Aliases: map[string]string{}, Schema: map[string][]string{}, Placement: map[string]placement{}}
	ids, err := peerSet(ctx, hc, base)
	if err != nil {
		return v, err
	}
	v.Peers = ids
	var cl struct {
		Collections []struct {
			Name string `json:"name"`
		} `json:"collections"`
	}
	if err := getResult(ctx, hc, base+"/collections", &cl); err != nil {
		return v, err
	}
	for _, c := range cl.Collections {
		v.Collections = append(v.Collections, c.Name)
	}
	slices.Sort(v.Collections)
	var al aliasesOut
	if err := getResult(ctx, hc, base+"/aliases", &al); err != nil {
		return v, err
	}
	for _, a := range al.Aliases {
		v.Aliases[a.AliasName] = a.CollectionName
	}
	for _, c := range v.Collections {
		var info struct {
			PayloadSchema map[string]json.RawMessage `json:"payload_schema"`
		}
		if err := getResult(ctx, hc, base+"/collections/"+url.PathEscape(c), &info); err != nil {
			return v, err
		}
		v.Schema[c] = slices.Sorted(maps.Keys(info.PayloadSchema))
		pl, err := readPlacementHTTP(ctx, hc, base, c)
		if err != nil {
			return v, err
		}
		v.Placement[c] = pl
	}
	return v, nil
}

type aliasesOut struct {
	Aliases []struct {
		AliasName      string `json:"alias_name"`
		CollectionName string `json:"collection_name"`
	} `json:"aliases"`
}

// metaDisagreements names what views[i] reads differently from views[0]
// (collections, aliases, a collection's payload_schema keys or shard
// placement); nil when every peer reads the same.
func metaDisagreements(names []string, views []metaView) []metaFinding {
	var out []metaFinding
	add := func(checker, format string, args ...any) {
		out = append(out, metaFinding{checker: checker, why: fmt.Sprintf(format, args...)})
	}
	for i := 1; i < len(views); i++ {
		a, b := views[0], views[i]
		if !slices.Equal(a.Peers, b.Peers) {
			add(CheckPeerSet, "peers: %s reads %v, %s reads %v", names[0], a.Peers, names[i], b.Peers)
		}
		if !slices.Equal(a.Collections, b.Collections) {
			add(CheckMetaDisagree, "collections: %s reads %v, %s reads %v", names[0], a.Collections, names[i], b.Collections)
		}
		if !maps.Equal(a.Aliases, b.Aliases) {
			add(CheckMetaDisagree, "aliases: %s reads %v, %s reads %v", names[0], a.Aliases, names[i], b.Aliases)
		}
		for _, c := range a.Collections {
			if !slices.Contains(b.Collections, c) {
				continue
			}
			if !slices.Equal(a.Schema[c], b.Schema[c]) {
				add(CheckMetaSchema, "payload_schema of %s: %s reads %v, %s reads %v (placement %v)", c, names[0], a.Schema[c], names[i], b.Schema[c], a.Placement[c])
			}
			if !reflect.DeepEqual(a.Placement[c], b.Placement[c]) {
				add(CheckMetaDisagree, "placement of %s: %s reads %v, %s reads %v", c, names[0], a.Placement[c], names[i], b.Placement[c])
			}
		}
	}
	return out
}

// metaFinding is one metadata checker's finding.
type metaFinding struct {
	checker string
	op      MetaOp
	why     string
}

// checkMetaLost holds every acknowledged create and delete to the final
// views of every peer (named by names): a created object absent, or a
// deleted one present, with no operation that may undo it, on any peer.
func checkMetaLost(ops []MetaOp, names []string, views []metaView) []metaFinding {
	// mayUndo reports whether some operation other than o that fits
	// match may have taken effect after o (any outcome).
	mayUndo := func(o MetaOp, match func(MetaOp) bool) bool {
		for _, x := range ops {
			if match(x) && mayFollow(x.asOp(), o.asOp()) {
				return true
			}
		}
		return false
	}
	var out []metaFinding
	for _, o := range ops {
		if o.Outcome != history.OK {
			continue
		}
		// want: whether the object must be present; present(v): whether
		// it is in view v; undo: the operations that may undo o.
		var want bool
		var present func(metaView) bool
		var undo func(MetaOp) bool
		switch o.Kind {
		case MetaCreateCollection, MetaDeleteCollection:
			want = o.Kind == MetaCreateCollection
			present = func(v metaView) bool { return slices.Contains(v.Collections, o.Object) }
			other := MetaDeleteCollection
			if !want {
				other = MetaCreateCollection
			}
			undo = func(x MetaOp) bool { return x.Kind == other && x.Object == o.Object }
		case MetaCreateAlias, MetaRenameAlias:
			// The alias (a rename's new name) exists; a rename's old name
			// is gone (checked as a delete below).
			want = true
			present = func(v metaView) bool { _, ok := v.Aliases[o.Object]; return ok }
			// Collections the alias may point at: a rename's target is
			// not known here, so any collection delete may undo it.
			targets := map[string]bool{o.Collection: true}
			anyTarget := o.Kind == MetaRenameAlias
			for _, x := range ops {
				if x.Object == o.Object && mayFollow(x.asOp(), o.asOp()) {
					switch x.Kind {
					case MetaCreateAlias:
						targets[x.Collection] = true
					case MetaRenameAlias:
						anyTarget = true
					}
				}
			}
			undo = func(x MetaOp) bool {
				return (x.Kind == MetaDeleteAlias && x.Object == o.Object) ||
					(x.Kind == MetaRenameAlias && x.Old == o.Object) ||
					(x.Kind == MetaDeleteCollection && (anyTarget || targets[x.Object]))
			}
		case MetaDeleteAlias:
			want = false
			present = func(v metaView) bool { _, ok := v.Aliases[o.Object]; return ok }
			undo = func(x MetaOp) bool {
				return (x.Kind == MetaCreateAlias || x.Kind == MetaRenameAlias) && x.Object == o.Object
			}
		case MetaCreateIndex, MetaDeleteIndex:
			want = o.Kind == MetaCreateIndex
			present = func(v metaView) bool { return slices.Contains(v.Schema[o.Collection], o.Object) }
			undo = func(x MetaOp) bool {
				if x.Kind == MetaDeleteCollection || x.Kind == MetaCreateCollection {
					return x.Object == o.Collection
				}
				other := MetaDeleteIndex
				if !want {
					other = MetaCreateIndex
				}
				return x.Kind == other && x.Object == o.Object && x.Collection == o.Collection
			}
		default:
			continue // shard moves: the placement is compared, not judged
		}
		check := func(o MetaOp, want bool, present func(metaView) bool, undo func(MetaOp) bool) {
			if mayUndo(o, undo) {
				return
			}
			var bad []string
			index := o.Kind == MetaCreateIndex || o.Kind == MetaDeleteIndex
			for i, v := range views {
				if index && !slices.Contains(v.Collections, o.Collection) {
					continue // the collection itself is gone: judged as a collection
				}
				if present(v) != want {
					bad = append(bad, names[i])
				}
			}
			if index && want && len(bad) < len(views) {
				// A created index is lost when no peer reports it: which
				// peers report it is CheckMetaSchema's business.
				bad = nil
			}
			if len(bad) > 0 {
				state := "absent"
				if !want {
					state = "present"
				}
				checker := CheckMetaLost
				if index {
					checker = CheckMetaIndexLost
				}
				out = append(out, metaFinding{checker: checker, op: o,
					why: fmt.Sprintf("%s acknowledged, yet %s is %s at the end on %s, and no operation may have undone it", o, o.Object, state, strings.Join(bad, ", "))})
			}
		}
		check(o, want, present, undo)
		if o.Kind == MetaRenameAlias {
			old := o
			old.Object = o.Old
			check(old, false, func(v metaView) bool { _, ok := v.Aliases[o.Old]; return ok }, func(x MetaOp) bool {
				return (x.Kind == MetaCreateAlias || x.Kind == MetaRenameAlias) && x.Object == o.Old
			})
		}
	}
	return out
}

// metaContext prints the metadata operations and nemesis events from 3 s
// before at to 1 s after that touch object (all of them when object is
// ""), at most 40 lines.
func metaContext(ops []MetaOp, events []Event, object string, at time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "    metadata history around %.3fms:\n", float64(at)/1e6)
	from, to := at-3*time.Second, at+time.Second
	type line struct {
		at   time.Duration
		text string
	}
	var lines []line
	for _, o := range ops {
		if (object == "" || o.Object == object || o.Old == object || o.Collection == object) && o.Invoke >= from && o.Invoke <= to {
			lines = append(lines, line{o.Invoke, o.String()})
		}
	}
	for _, e := range events {
		if e.At >= from && e.At <= to {
			lines = append(lines, line{e.At, "*** " + e.String()})
		}
	}
	slices.SortStableFunc(lines, func(a, b line) int { return cmp.Compare(a.at, b.at) })
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	for _, l := range lines {
		b.WriteString("    " + l.text + "\n")
	}
	return b.String()
}

// metaResult is what the metadata checks found after healing.
type metaResult struct {
	agreed   bool
	took     time.Duration // from healing to agreement (or to giving up)
	findings []metaFinding
}

// checkMetadata waits up to bound for every peer to read the same
// metadata, then judges the acknowledged creates and deletes against
// what each peer reads.
func checkMetadata(ctx context.Context, hc *http.Client, peers []*clustertest.Peer, ops []MetaOp, healed time.Time, bound time.Duration) metaResult {
	names := make([]string, len(peers))
	for i, p := range peers {
		names[i] = fmt.Sprintf("peer-%d", p.Index)
	}
	var views []metaView
	var disagree []metaFinding
	err := waitFor(bound, func() error {
		views = views[:0]
		for _, p := range peers {
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			v, err := readMetaView(rctx, hc, p.BaseURL())
			cancel()
			if err != nil {
				return fmt.Errorf("peer %d: %w", p.Index, err)
			}
			views = append(views, v)
		}
		// Known open disagreements (metaOpen) do not go away: the wait
		// is for the others; the open ones are judged when it ends.
		disagree = metaDisagreements(names, views)
		for _, d := range disagree {
			if !metaOpen[d.checker] {
				return fmt.Errorf("%s: %s", d.checker, d.why)
			}
		}
		return nil
	})
	res := metaResult{agreed: err == nil, took: time.Since(healed)}
	if len(views) < len(peers) {
		res.findings = append(res.findings, metaFinding{checker: CheckMetaDisagree, why: fmt.Sprintf("%v after healing a peer does not answer: %v", res.took.Round(time.Millisecond), err)})
		return res
	}
	for _, d := range disagree {
		d.why = fmt.Sprintf("%v after healing: %s", res.took.Round(time.Millisecond), d.why)
		res.findings = append(res.findings, d)
	}
	res.findings = append(res.findings, checkMetaLost(ops, names, views)...)
	res.findings = append(res.findings, checkPeers(ops, names, views)...)
	return res
}
