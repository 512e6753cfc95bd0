package faults

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/clustertest/history"
)

// Config is one run.
type Config struct {
	Seed     uint64
	Duration time.Duration // workload and nemesis time (default 30 s)
	Peers    int           // default 3
	Shards   int           // per collection (default 2); replication_factor is Peers
	Keys     int           // per collection (default 64)
	Modes    []Mode        // default DefaultModes()
	Race     bool          // build shoal with -race
	// Converge bounds the wait for every replica to be Active and equal
	// after healing (default 60 s); the time taken is a figure.
	Converge time.Duration
	// NoSearch and NoMetadata turn off the search and metadata workloads
	// (search.go, metadata.go), which are on by default; NoPeers turns
	// off only the peer joins and removals of the metadata workload
	// (peers.go).
	NoSearch, NoMetadata, NoPeers bool
	// T is the test that owns the run; nil outside tests.
	T    testing.TB
	Logf func(string, ...any)
}

func (c *Config) defaults() {
	if c.Duration == 0 {
		c.Duration = 30 * time.Second
	}
	if c.Peers == 0 {
		c.Peers = 3
	}
	if c.Shards == 0 {
		c.Shards = 2
	}
	if c.Keys == 0 {
		c.Keys = 64
	}
	if c.Modes == nil {
		c.Modes = DefaultModes()
	}
	if c.Converge == 0 {
		c.Converge = 60 * time.Second
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// coll is one collection's recorded run.
type coll struct {
	mode     Mode
	rec      *history.Recorder
	reads    *reads
	searches *searches
}

// Run starts a cluster, runs the workloads under the nemesis for
// cfg.Duration, heals, and checks. Its error is about the run itself (the
// cluster would not start, a heal failed); findings are in the Report.
func Run(ctx context.Context, cfg Config) (rep Report, err error) {
	cfg.defaults()
	tb := cfg.T
	if tb == nil {
		r := &runnerTB{logf: cfg.Logf}
		defer r.close()
		defer recoverFatal(&err)
		tb = r
	}
	cfg.Logf("faults: seed %d, %v, %d peers, modes %v", cfg.Seed, cfg.Duration, cfg.Peers, cfg.Modes)
	c := clustertest.Start(tb, cfg.Peers, clustertest.Options{Race: cfg.Race})
	rep.Runs, rep.Modes = 1, cfg.Modes
	rep.init()

	var colls []*coll
	for _, m := range cfg.Modes {
		body := map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"},
			"shard_number": cfg.Shards, "replication_factor": cfg.Peers, "write_consistency_factor": m.WCF}
		if err := c.Peers[0].Do(http.MethodPut, "/collections/"+m.Name(), body, nil); err != nil {
			return rep, fmt.Errorf("create %s: %w", m.Name(), err)
		}
		colls = append(colls, &coll{mode: m, reads: &reads{}, searches: &searches{}})
	}
	for _, cl := range colls {
		if err := waitFor(cfg.Converge, func() error { _, err := allActive(c.Peers, cl.mode.Name(), cfg.Shards, cfg.Peers); return err }); err != nil {
			return rep, fmt.Errorf("collection %s: %w", cl.mode.Name(), err)
		}
	}
	// One recorder per collection (write ids per history), all started
	// within microseconds: the nemesis uses the first one's clock.
	for _, cl := range colls {
		cl.rec = history.NewRecorder()
	}

	nem := &nemesis{c: c, rng: rand.New(rand.NewPCG(cfg.Seed, 0x6e656d)), logf: cfg.Logf,
		hold: [2]time.Duration{2 * time.Second, 5 * time.Second}, quiet: [2]time.Duration{1 * time.Second, 3 * time.Second}}
	nem.now = colls[0].rec.Now
	wctx, stop := context.WithTimeout(ctx, cfg.Duration)
	defer stop()
	hc := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for ci, cl := range colls {
		for _, p := range c.Peers {
			client := &history.Client{Rec: cl.rec, BaseURL: p.BaseURL(), Peer: fmt.Sprintf("peer-%d", p.Index),
				Collection: cl.mode.Name(), Ordering: cl.mode.Ordering, NoWait: !cl.mode.Wait, Timeout: 5 * time.Second, Dim: 4,
				Vector: func(id history.WriteID) any { return pointVector(id, 4) }}
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(ci*16+p.Index+1)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				worker(wctx, rng, client, hc, cl.reads, cfg.Keys)
			}()
			// --- search workload (search.go)
			if !cfg.NoSearch {
				srng := rand.New(rand.NewPCG(cfg.Seed, uint64(ci*16+p.Index+1)<<8|0x5e))
				wg.Add(1)
				go func() {
					defer wg.Done()
					searchWorker(wctx, srng, hc, cl.rec.Now, cl.searches, client.BaseURL, client.Peer, cl.mode.Name(), cfg.Keys, 4, client.Timeout)
				}()
			}
		}
	}
	// --- metadata workload (metadata.go)
	metaOps := &metaLog{}
	var spare *clustertest.Peer // the joiner (peers.go); nil when off
	if !cfg.NoMetadata {
		mw := &metaWorker{rng: rand.New(rand.NewPCG(cfg.Seed, 0x6d657461)), hc: hc, now: colls[0].rec.Now, peers: c.Peers, log: metaOps, timeout: 10 * time.Second}
		for _, cl := range colls {
			mw.modes = append(mw.modes, cl.mode.Name())
		}
		for _, p := range c.Peers {
			st, err := p.Cluster()
			if err != nil {
				return rep, fmt.Errorf("peer %d: %w", p.Index, err)
			}
			mw.ids = append(mw.ids, st.PeerID)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			mw.run(wctx)
		}()
		// --- peer join and removal (peers.go)
		if !cfg.NoPeers {
			spare = c.Spare()
			pw := &peerWorker{rng: rand.New(rand.NewPCG(cfg.Seed, 0x70656572)), hc: hc, now: colls[0].rec.Now, c: c, spare: spare,
				originals: c.Peers, origIDs: mw.ids, log: metaOps, timeout: 20 * time.Second,
				gap: [2]time.Duration{cfg.Duration / 8, cfg.Duration / 4}}
			wg.Add(1)
			go func() {
				defer wg.Done()
				pw.run(wctx)
			}()
		}
	}
	// ---
	nemErr := nem.run(wctx)
	wg.Wait()
	// Heal everything, whatever the nemesis left.
	c.Heal()
	for _, p := range c.Peers {
		p.Msgs.SetFilter(nil)
		if p.Running() {
			_ = p.Resume()
		} else if err := nem.restart(p); err != nil {
			return rep, fmt.Errorf("restart peer %d at the end: %w", p.Index, err)
		}
	}
	healed := time.Now()
	nem.record("healed: every link restored, every peer running")
	events, counts := nem.snapshot()
	for k, v := range counts {
		rep.Faults[k] += v
	}
	if nemErr != nil {
		return rep, nemErr
	}

	pc, err := newP2PConns(c.Peers)
	if err != nil {
		return rep, err
	}
	defer pc.Close()
	// Convergence: every replica of every collection Active and equal.
	pls := map[string]placement{}
	var lastDiffs map[string][]history.Difference
	convErr := waitFor(cfg.Converge, func() error {
		lastDiffs = map[string][]history.Difference{}
		for _, cl := range colls {
			pl, err := allActive(c.Peers, cl.mode.Name(), cfg.Shards, cfg.Peers)
			if err != nil {
				return err
			}
			pls[cl.mode.Name()] = pl
			diffs, err := compareReplicas(ctx, pc, cl.mode.Name(), pl)
			if err != nil {
				return err
			}
			if len(diffs) > 0 && cl.mode.Durable {
				lastDiffs[cl.mode.Name()] = diffs
				return fmt.Errorf("%s: %d differences between replicas", cl.mode.Name(), len(diffs))
			}
			lastDiffs[cl.mode.Name()] = diffs
		}
		return nil
	})
	if convErr == nil {
		rep.Converge = append(rep.Converge, time.Since(healed))
	} else {
		rep.NotConverged++
	}
	cfg.Logf("faults: converged in %v (err %v)", time.Since(healed).Round(time.Millisecond), convErr)
	// A last look at every collection: the wait stops at the first that
	// is not converged, and the others must be judged too.
	notConverged := map[string]error{}
	if convErr != nil {
		for _, cl := range colls {
			name := cl.mode.Name()
			pl, err := allActive(c.Peers, name, cfg.Shards, cfg.Peers)
			if err == nil {
				var diffs []history.Difference
				if diffs, err = compareReplicas(ctx, pc, name, pl); err == nil {
					lastDiffs[name] = diffs
					if len(diffs) > 0 {
						err = fmt.Errorf("%d differences between replicas", len(diffs))
					}
				}
			}
			if err != nil {
				notConverged[name] = err
			}
		}
	}

	// --- metadata: peers agree within what is left of the bound (metadata.go)
	var mr metaResult
	mops := metaOps.list()
	if !cfg.NoMetadata {
		mpeers := c.Peers
		if spare != nil && spare.Running() {
			if in, err := joined(hc, c, spare, 10*time.Second); in {
				mpeers = append(slices.Clip(mpeers), spare)
			} else {
				// Not a member (an unknown join that did not take, an
				// unknown removal that did): out of the checks.
				cfg.Logf("faults: the spare peer %d runs but is not a member (%v): stopped", spare.Index, err)
				_ = spare.Kill()
			}
		}
		mr = checkMetadata(ctx, hc, mpeers, mops, healed, max(cfg.Converge-time.Since(healed), 5*time.Second))
		cfg.Logf("faults: metadata: %d operations, peers agree after %v (%v), %d findings", len(mops), mr.took.Round(time.Millisecond), mr.agreed, len(mr.findings))
	}
	// ---
	for _, cl := range colls {
		name := cl.mode.Name()
		h := cl.rec.History()
		rds := cl.reads.list()
		for _, op := range h {
			rep.op(op.Kind.String(), op.Outcome)
		}
		for _, r := range rds {
			rep.op("read", r.Outcome)
		}
		v := func(checker, text string) {
			rep.count(checker, name, 1)
			rep.Violations = append(rep.Violations, Violation{Seed: cfg.Seed, Mode: name, Checker: checker,
				Promised: promises(cl.mode, checker), Open: cl.mode.isOpen(checker), Text: text})
		}
		for _, c := range Checkers {
			rep.count(c, name, 0)
		}
		if err := notConverged[name]; err != nil {
			v(CheckNotConverged, fmt.Sprintf("after %v: %v\n%s", cfg.Converge, err, eventsText(events, 0, Forever)))
		}
		for _, d := range lastDiffs[name] {
			v(CheckReplicas, d.String())
		}
		// Final state through every peer.
		var finals []map[uint64]history.WriteID
		for _, p := range c.Peers {
			// The state is judged, not availability: a read refused for
			// a moment (a raft election after the joining peer left, its
			// read barrier unconfirmed) is asked again.
			var f map[uint64]history.WriteID
			err := waitFor(30*time.Second, func() error {
				var err error
				f, err = history.ReadFinal(ctx, hc, p.BaseURL(), name, history.ScrollOptions{})
				return err
			})
			if err != nil {
				return rep, fmt.Errorf("%s: final read through peer %d: %w", name, p.Index, err)
			}
			finals = append(finals, f)
		}
		for i := 1; i < len(finals); i++ {
			if !reflect.DeepEqual(finals[0], finals[i]) {
				v(CheckPeers, fmt.Sprintf("peer 0 reads %v, peer %d reads %v", finals[0], i, finals[i]))
			}
		}
		chk := history.Check(h, finals[0])
		for _, a := range chk.Anomalies {
			checker := checkerOf(a, hasKey(finals[0], a.Key))
			v(checker, a.String()+"\n"+keyContext(h, rds, events, a.Key, anomalyTime(a)))
		}
		for _, st := range staleReads(h, rds) {
			v(CheckStale, st.why+"\n"+keyContext(h, rds, events, st.read.Key, st.read.Invoke))
		}
		// --- search checkers (search.go)
		sss := cl.searches.list()
		for _, s := range sss {
			rep.op("search", s.Outcome)
		}
		for _, f := range checkSearches(h, sss) {
			v(f.checker, searchContext(f, h, rds, events))
		}
		// ---
		if cl.mode.FreshReads {
			linStart := time.Now()
			bad := checkLinearizable(h, rds, 2*time.Second, 20*time.Second)
			cfg.Logf("faults: %s: porcupine over %d updates and %d reads: %d keys not ok, %v", name, len(h), len(rds), len(bad), time.Since(linStart).Round(time.Millisecond))
			for _, lr := range bad {
				checker := CheckLinearizable
				if lr.Result != "Illegal" {
					checker = CheckLinUndecided
				}
				v(checker, fmt.Sprintf("key %d: porcupine says %s after %v\n%s", lr.Key, lr.Result, lr.Elapsed.Round(time.Millisecond),
					keyContext(h, rds, events, lr.Key, lastRead(lr.Reads))))
			}
		}
		cfg.Logf("faults: %s: %s", name, chk.String())
	}
	// --- metadata checkers (metadata.go)
	if !cfg.NoMetadata {
		for _, o := range mops {
			rep.op(o.Kind, o.Outcome)
			cfg.Logf("faults: %s", o)
		}
		for _, c := range MetaCheckers {
			rep.count(c, metaMode, 0)
		}
		if mr.agreed {
			rep.MetaAgree = append(rep.MetaAgree, mr.took)
		} else {
			rep.MetaNotAgreed++
		}
		for _, f := range mr.findings {
			rep.count(f.checker, metaMode, 1)
			text := f.why + "\n" + metaContext(mops, events, f.op.Object, f.op.Invoke)
			if f.op.ID == 0 {
				text = f.why + "\n" + eventsText(events, 0, Forever)
			}
			rep.Violations = append(rep.Violations, Violation{Seed: cfg.Seed, Mode: metaMode, Checker: f.checker, Promised: true, Open: metaOpen[f.checker], Text: text})
		}
	}
	// ---
	return rep, nil
}

// joined waits up to timeout for the running spare to be ready and
// listed by every original peer; it reports whether it is a member.
func joined(hc *http.Client, c *clustertest.Cluster, spare *clustertest.Peer, timeout time.Duration) (bool, error) {
	err := waitFor(timeout, func() error {
		if err := c.WaitReady(spare, 2*time.Second); err != nil {
			return err
		}
		st, err := spare.Cluster()
		if err != nil {
			return err
		}
		for _, p := range c.Peers {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			ids, err := peerSet(ctx, hc, p.BaseURL())
			cancel()
			if err != nil {
				return err
			}
			if !slices.Contains(ids, st.PeerID) {
				return fmt.Errorf("peer %d does not list %d", p.Index, st.PeerID)
			}
		}
		return nil
	})
	return err == nil, err
}

// Forever bounds an event window that has no end.
const Forever = time.Duration(1<<63 - 1)

// checkerOf names the checker an anomaly of history.Check counts under;
// present says whether the key is in the final state.
func checkerOf(a history.Anomaly, present bool) string {
	switch {
	case a.Kind == history.Resurrected:
		return CheckResurrected
	case a.Kind == history.FailedVisible && a.Source != nil && a.Source.Kind == history.Delete:
		// An absent point that only a refused delete explains: either
		// that delete took effect or acknowledged upserts were lost; the
		// second is the likelier and is what a mode without ordering
		// allows, so it counts as a loss.
		return CheckLost
	case a.Kind == history.FailedVisible:
		return CheckFailedVisible
	case a.Source == nil && present:
		return CheckPhantom
	}
	return CheckLost
}

func hasKey(m map[uint64]history.WriteID, k uint64) bool {
	_, ok := m[k]
	return ok
}

// keyContext prints one key's operations and reads, and the nemesis
// events, from 3 s before at to 1 s after, in time order (at most 60
// lines, those nearest at).
func keyContext(h history.History, rds []Read, events []Event, key uint64, at time.Duration) string {
	type line struct {
		at   time.Duration
		text string
	}
	from, to := at-3*time.Second, at+time.Second
	in := func(t time.Duration) bool { return t >= from && t <= to }
	var lines []line
	for _, op := range h {
		if op.Key == key && in(op.Invoke) {
			lines = append(lines, line{op.Invoke, op.String()})
		}
	}
	for _, r := range rds {
		if r.Key == key && r.Outcome == history.OK && in(r.Invoke) {
			lines = append(lines, line{r.Invoke, r.String()})
		}
	}
	for _, e := range events {
		if in(e.At) {
			lines = append(lines, line{e.At, "*** " + e.String()})
		}
	}
	slices.SortStableFunc(lines, func(a, b line) int { return cmp.Compare(a.at, b.at) })
	const maxLines = 60
	for len(lines) > maxLines {
		if at-lines[0].at > lines[len(lines)-1].at-at {
			lines = lines[1:]
		} else {
			lines = lines[:len(lines)-1]
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "    history of key %d around %.3fms:\n", key, float64(at)/1e6)
	for _, l := range lines {
		b.WriteString("    " + l.text + "\n")
	}
	return b.String()
}

// lastRead is the invoke time of the last read (porcupine does not say
// where a history breaks; the end is where it is known broken).
func lastRead(rds []Read) time.Duration {
	var t time.Duration
	for _, r := range rds {
		t = max(t, r.Invoke)
	}
	return t
}

// anomalyTime is when an anomaly showed: the latest operation it names.
func anomalyTime(a history.Anomaly) time.Duration {
	var t time.Duration
	if a.Source != nil {
		t = a.Source.Invoke
	}
	for _, op := range a.Superseding {
		t = max(t, op.Invoke)
	}
	return t
}

func eventsText(events []Event, from, to time.Duration) string {
	var b strings.Builder
	for _, e := range events {
		if e.At >= from && e.At <= to {
			b.WriteString("    " + e.String() + "\n")
		}
	}
	return b.String()
}

// waitFor polls f until it returns nil or timeout passes.
func waitFor(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}
