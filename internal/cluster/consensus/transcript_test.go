package consensus

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"go.etcd.io/raft/v3/raftpb"
)

// TestTranscripts replays testdata/transcripts/*.txt: clusters of nodes
// driven one event at a time on the test's goroutine (no Run, no clock, no
// goroutine), with a network that delivers messages only when told, so
// every run takes the same steps. Commands:
//
//	add-nodes <n> [compact=<k>]   new nodes; the very first one bootstraps
//	tick <id> [count=<k>]         raft ticks of one node
//	tick-all [count=<k>]          rounds of one tick of every node, each
//	                              followed by stabilize
//	campaign <id>                 the node starts an election
//	propose <id> <data>           a proposal, named p1, p2, ...
//	change <id> <add-learner|promote|remove> <peer>
//	                              a membership change, named m1, m2, ...
//	drop type=<MsgType> to=<id> [count=<k>]
//	                              the next k such messages are lost, and
//	                              their sender told so (k=0: all of them)
//	hold type=<MsgType> to=<id>   such messages wait for release
//	release                       delivers the held messages
//	stabilize                     delivers messages until none is left
//	status                        every node's raft position
//	results                       the outcome of every named proposal
//	log <id>                      what the node's state machine applied
//	restart <id>                  the node reopens from its directory
//
// Run with -rewrite to regenerate the expected output after a deliberate
// change, then read the diff.
func TestTranscripts(t *testing.T) {
	datadriven.Walk(t, "testdata/transcripts", func(t *testing.T, path string) {
		net := newTNet(t)
		defer net.close()
		datadriven.RunTest(t, path, net.run)
	})
}

type tmsg struct {
	from uint64
	m    Message
	typ  string
}

type rule struct {
	typ   string
	to    uint64
	left  int // 0: every one
	drop  bool
	total int
}

type tnode struct {
	id      uint64
	n       *Node
	sm      *listSM
	dir     string
	compact uint64
}

type tnet struct {
	t       *testing.T
	nodes   map[uint64]*tnode
	queue   []tmsg
	held    []tmsg
	rules   []*rule
	props   []tprop
	nextID  uint64
	dropped map[string]int
}

type tprop struct {
	name string
	done chan result
	res  *result
}

func newTNet(t *testing.T) *tnet {
	return &tnet{t: t, nodes: map[uint64]*tnode{}, nextID: 1, dropped: map[string]int{}}
}

func (nt *tnet) close() {
	for _, tn := range nt.nodes {
		tn.n.store.Close()
	}
}

type ttransport struct {
	net  *tnet
	from uint64
}

func (tr ttransport) Send(msgs []Message) {
	for _, m := range msgs {
		typ, err := MessageType(m.Data)
		if err != nil {
			tr.net.t.Fatalf("node %d sent an undecodable message: %v", tr.from, err)
		}
		tr.net.queue = append(tr.net.queue, tmsg{from: tr.from, m: m, typ: typ})
	}
}

func (nt *tnet) ids() []uint64 {
	ids := make([]uint64, 0, len(nt.nodes))
	for id := range nt.nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (nt *tnet) node(t *testing.T, d *datadriven.TestData, i int) *tnode {
	if len(d.CmdArgs) <= i {
		d.Fatalf(t, "missing node id")
	}
	id, err := strconv.ParseUint(d.CmdArgs[i].Key, 10, 64)
	if err != nil {
		d.Fatalf(t, "bad node id %q", d.CmdArgs[i].Key)
	}
	tn, ok := nt.nodes[id]
	if !ok {
		d.Fatalf(t, "no node %d", id)
	}
	return tn
}

func (nt *tnet) open(t *testing.T, id uint64, dir string, compact uint64, bootstrap bool) *tnode {
	sm := &listSM{}
	n, err := Open(Config{ID: id, Dir: dir, Bootstrap: bootstrap, BootstrapContext: fmt.Appendf(nil, "uri-%d", id),
		CompactEntries: compact, ProposalIDs: id << 40, Logger: quiet()}, sm, ttransport{nt, id})
	if err != nil {
		t.Fatalf("open node %d: %v", id, err)
	}
	if err := n.start(); err != nil {
		t.Fatalf("start node %d: %v", id, err)
	}
	tn := &tnode{id: id, n: n, sm: sm, dir: dir, compact: compact}
	nt.advance(t, tn)
	return tn
}

func (nt *tnet) advance(t *testing.T, tn *tnode) {
	if err := tn.n.advance(); err != nil {
		t.Fatalf("node %d: %v", tn.id, err)
	}
}

func (nt *tnet) run(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "add-nodes":
		count, err := strconv.Atoi(d.CmdArgs[0].Key)
		if err != nil {
			d.Fatalf(t, "add-nodes <n>")
		}
		var compact uint64
		d.MaybeScanArgs(t, "compact", &compact)
		for range count {
			id := nt.nextID
			nt.nextID++
			nt.nodes[id] = nt.open(t, id, t.TempDir(), compact, id == 1)
		}
		return nt.status()
	case "tick":
		tn := nt.node(t, d, 0)
		count := 1
		d.MaybeScanArgs(t, "count", &count)
		for range count {
			tn.n.tick()
			nt.advance(t, tn)
		}
		return "ok"
	case "tick-all":
		count := 1
		d.MaybeScanArgs(t, "count", &count)
		var out []string
		for range count {
			for _, id := range nt.ids() {
				nt.nodes[id].n.tick()
				nt.advance(t, nt.nodes[id])
			}
			if r := nt.stabilize(t); r != "ok" {
				out = append(out, r)
			}
		}
		if len(out) == 0 {
			return "ok"
		}
		return strings.Join(out, "\n")
	case "campaign":
		tn := nt.node(t, d, 0)
		_ = tn.n.rn.Campaign()
		nt.advance(t, tn)
		return "ok"
	case "propose":
		tn := nt.node(t, d, 0)
		p := tn.n.prepare(proposal{data: []byte(d.CmdArgs[1].Key)})
		tn.n.propose(p)
		nt.advance(t, tn)
		return nt.name("p", p.done)
	case "change":
		tn := nt.node(t, d, 0)
		peer, _ := strconv.ParseUint(d.CmdArgs[2].Key, 10, 64)
		cc := raftpb.ConfChange{NodeID: peer}
		switch d.CmdArgs[1].Key {
		case "add-learner":
			cc.Type = raftpb.ConfChangeAddLearnerNode
		case "promote":
			cc.Type = raftpb.ConfChangeAddNode
		case "remove":
			cc.Type = raftpb.ConfChangeRemoveNode
		default:
			d.Fatalf(t, "unknown change %q", d.CmdArgs[1].Key)
		}
		p := tn.n.prepare(proposal{member: &cc, data: fmt.Appendf(nil, "uri-%d", peer)})
		tn.n.propose(p)
		nt.advance(t, tn)
		return nt.name("m", p.done)
	case "drop", "hold":
		r := &rule{drop: d.Cmd == "drop"}
		d.ScanArgs(t, "type", &r.typ)
		d.ScanArgs(t, "to", &r.to)
		d.MaybeScanArgs(t, "count", &r.left)
		nt.rules = append(nt.rules, r)
		return "ok"
	case "release":
		held := nt.held
		nt.held = nil
		nt.rules = slices.DeleteFunc(nt.rules, func(r *rule) bool { return !r.drop })
		for _, m := range held {
			nt.deliver(t, m)
		}
		return fmt.Sprintf("released %d", len(held))
	case "stabilize":
		return nt.stabilize(t)
	case "status":
		return nt.status()
	case "results":
		return nt.results()
	case "log":
		tn := nt.node(t, d, 0)
		return fmt.Sprintf("%v", tn.sm.list())
	case "restart":
		tn := nt.node(t, d, 0)
		tn.n.store.Close()
		nt.nodes[tn.id] = nt.open(t, tn.id, tn.dir, tn.compact, false)
		return nt.status()
	}
	d.Fatalf(t, "unknown command %q", d.Cmd)
	return ""
}

func (nt *tnet) name(prefix string, done chan result) string {
	n := 1
	for _, p := range nt.props {
		if strings.HasPrefix(p.name, prefix) {
			n++
		}
	}
	name := prefix + strconv.Itoa(n)
	nt.props = append(nt.props, tprop{name: name, done: done})
	return name
}

// stabilize delivers messages (and the transport's reports) until the
// network is quiet.
func (nt *tnet) stabilize(t *testing.T) string {
	for round := 0; ; round++ {
		if round > 1000 {
			t.Fatal("the network never became quiet")
		}
		for _, id := range nt.ids() {
			tn := nt.nodes[id]
			tn.n.reports.drain(tn.n.rn)
			nt.advance(t, tn)
		}
		if len(nt.queue) == 0 {
			break
		}
		batch := nt.queue
		nt.queue = nil
		for _, m := range batch {
			nt.deliver(t, m)
		}
	}
	if len(nt.dropped) == 0 {
		return "ok"
	}
	keys := make([]string, 0, len(nt.dropped))
	for k := range nt.dropped {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %d\n", k, nt.dropped[k])
	}
	clear(nt.dropped)
	return strings.TrimSuffix(b.String(), "\n")
}

// deliver hands a message to its recipient as the P2P transport would:
// lost ones are reported unreachable, and every snapshot's delivery is
// reported to its sender.
func (nt *tnet) deliver(t *testing.T, m tmsg) {
	from := nt.nodes[m.from]
	for _, r := range nt.rules {
		if r.typ != m.typ || r.to != m.m.To {
			continue
		}
		if r.drop && (r.left == 0 || r.total < r.left) {
			r.total++
			nt.dropped[fmt.Sprintf("dropped %s %d->%d", m.typ, m.from, m.m.To)]++
			if from != nil {
				from.n.Unreachable(m.m.To)
				if m.m.Snapshot {
					from.n.ReportSnapshot(m.m.To, false)
				}
			}
			return
		}
		if !r.drop {
			nt.held = append(nt.held, m)
			return
		}
	}
	to, ok := nt.nodes[m.m.To]
	if !ok {
		if from != nil {
			from.n.Unreachable(m.m.To)
		}
		return
	}
	rm, err := DecodeMessage(m.m.Data)
	if err != nil {
		t.Fatal(err)
	}
	to.n.step(rm)
	if m.m.Snapshot && from != nil {
		from.n.ReportSnapshot(m.m.To, true)
	}
}

func (nt *tnet) status() string {
	var b strings.Builder
	for _, id := range nt.ids() {
		st := nt.nodes[id].n.Status()
		fmt.Fprintf(&b, "%d: %s term=%d commit=%d applied=%d leader=%d voters=%v learners=%v\n",
			id, st.Role, st.Term, st.Commit, st.Applied, st.Leader, sorted(st.Voters), sorted(st.Learners))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func sorted(ids []uint64) []uint64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func (nt *tnet) results() string {
	var b strings.Builder
	for i := range nt.props {
		p := &nt.props[i]
		if p.res == nil {
			select {
			case r := <-p.done:
				p.res = &r
			default:
			}
		}
		switch {
		case p.res == nil:
			fmt.Fprintf(&b, "%s: pending\n", p.name)
		case p.res.err != nil:
			fmt.Fprintf(&b, "%s: error %v\n", p.name, p.res.err)
		default:
			fmt.Fprintf(&b, "%s: ok %v\n", p.name, p.res.value)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}
