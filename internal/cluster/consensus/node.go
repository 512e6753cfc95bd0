package consensus

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/shoaldb/shoal/internal/vfs"
)

// StateMachine is what committed operations are applied to, in log order,
// on every peer alike. Apply's result (or error) is handed to the proposer
// when it waits on this peer.
//
// Every call carries the raft index of what is applied, so that a state
// machine with side effects (the node creates collection directories) can
// tell an entry it already acted on before a restart from a new one.
type StateMachine interface {
	Apply(index uint64, data []byte) (any, error)
	// ApplyMembership is called for a committed membership change.
	ApplyMembership(index uint64, ch Membership) error
	Snapshot() ([]byte, error)
	Restore(index uint64, data []byte) error
}

// Transport carries raft messages to other peers. Send must not block; a
// message that cannot be delivered is reported with Node.Unreachable.
// Messages are opaque bytes outside this package (only it knows raft).
type Transport interface {
	Send(msgs []Message)
}

// Message is one raft message for peer To.
type Message struct {
	To   uint64
	Data []byte
	// Snapshot marks a message that carries a raft snapshot: the transport
	// must end its delivery with Node.ReportSnapshot, success or failure,
	// or raft keeps the peer paused waiting for it.
	Snapshot bool
}

// MembershipKind is the kind of a membership change.
type MembershipKind int

// Membership changes: a peer joins as a learner, is promoted to voter, or
// is removed.
const (
	AddLearner MembershipKind = iota
	PromoteVoter
	RemovePeer
)

// Membership is a committed change of the voters and learners.
type Membership struct {
	Kind    MembershipKind
	Peer    uint64
	Context []byte // what the proposer attached (e.g. the peer's URI)
}

// Config configures a Node. Time is not part of it: the caller owns the
// clock and hands Run one tick per consensus.tick_period_ms.
type Config struct {
	ID             uint64
	Dir            string
	FS             vfs.FS // the raft state's file system; nil: the OS's
	ElectionTicks  int    // ticks without a leader before an election (default 10)
	QueueSize      int    // consensus.max_message_queue_size: pending proposals
	CompactEntries uint64 // consensus.compact_wal_entries; 0 never compacts
	// Bootstrap makes a fresh first peer the single voter of a new
	// cluster; a joining peer starts empty and learns from the leader.
	// BootstrapContext is the context of that first membership change
	// (the first peer's URI).
	Bootstrap        bool
	BootstrapContext []byte
	// ProposalIDs seeds the ids that match committed proposals to their
	// waiters; 0 draws a random seed (ids from different peers must not
	// meet). Tests fix it to replay transcripts.
	ProposalIDs uint64
	Logger      *slog.Logger
}

// ErrTimeout is returned when a proposal is not applied in time.
var ErrTimeout = errors.New("consensus: operation was not applied in time")

// ErrStopped is returned by a Node that is not running.
var ErrStopped = errors.New("consensus: stopped")

type proposal struct {
	id     uint64
	data   []byte
	member *raftpb.ConfChange
	done   chan result // nil: nobody waits
}

type result struct {
	value any
	err   error
}

// Node drives one peer's raft with a single goroutine (Run): it ticks when
// the caller's clock says so, steps received messages, proposes, persists
// and sends each Ready, and applies committed entries to the state
// machine. Each of those is a plain method of its own (tick, step,
// propose, advance) with no goroutine, clock or channel in it, so that a
// test can drive a node one event at a time and replay a transcript.
type Node struct {
	cfg          Config
	log          *slog.Logger
	store        *Storage
	sm           StateMachine
	tr           Transport
	rn           *raft.RawNode
	applied      uint64
	conf         raftpb.ConfState
	sinceCompact uint64

	props   chan proposal
	recv    chan raftpb.Message
	reports reports
	nextID  atomic.Uint64

	// Owned by the Run goroutine.
	ticks       uint64
	members     []memberChange // membership changes to propose, in order
	pendingConf uint64         // highest index of a conf change in this peer's log

	// Read barriers (readindex.go), owned by the Run goroutine but
	// readReqs.
	readReqs     chan chan error
	readQueue    []chan error
	readInFlight *readBatch
	readWaiting  []readAt
	readSeq      uint64

	mu      sync.Mutex
	waiters map[uint64]chan result

	status atomic.Pointer[Status]
	done   chan struct{}
}

// Status is what GET /cluster shows of raft.
type Status struct {
	ID, Term, Commit, Applied, Leader uint64
	Role                              string // Leader, Follower, Candidate, PreCandidate
	IsVoter                           bool
	Voters, Learners                  []uint64
	PendingOperations                 int
}

// Open loads the peer's raft state and restores the state machine from the
// latest snapshot; the committed entries after it are applied by Run.
func Open(cfg Config, sm StateMachine, tr Transport) (*Node, error) {
	if cfg.ID == 0 {
		return nil, errors.New("consensus: peer id 0")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ElectionTicks <= 1 {
		cfg.ElectionTicks = 10
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 100
	}
	st, err := OpenStorageFS(cfg.FS, cfg.Dir, cfg.Logger)
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: cfg.Logger, store: st, sm: sm, tr: tr,
		props: make(chan proposal, cfg.QueueSize), readReqs: make(chan chan error, 64), recv: make(chan raftpb.Message, 1024), reports: newReports(),
		waiters: map[uint64]chan result{}, done: make(chan struct{})}
	seed := cfg.ProposalIDs
	for seed == 0 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("consensus: proposal id seed: %w", err)
		}
		seed = binary.BigEndian.Uint64(b[:]) >> 1 // room to count up
	}
	n.nextID.Store(seed)
	snap, err := st.Snapshot()
	if err != nil {
		st.Close()
		return nil, err
	}
	if !raft.IsEmptySnap(snap) {
		if err := sm.Restore(snap.Metadata.Index, snap.Data); err != nil {
			st.Close()
			return nil, fmt.Errorf("restore state from raft snapshot: %w", err)
		}
		n.applied = snap.Metadata.Index
		n.conf = snap.Metadata.ConfState
	}
	rc := &raft.Config{
		ID: cfg.ID, ElectionTick: cfg.ElectionTicks, HeartbeatTick: 1, Storage: st, Applied: n.applied,
		MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256, MaxUncommittedEntriesSize: 64 << 20,
		CheckQuorum: true, PreVote: true, Logger: raftLogger{cfg.Logger},
	}
	rn, err := raft.NewRawNode(rc)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("start raft: %w", err)
	}
	n.rn = rn
	hs, _, err := st.InitialState()
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("read raft hard state: %w", err)
	}
	last, err := st.LastIndex()
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("read raft last index: %w", err)
	}
	// A conf change may sit in the log beyond what is applied; until it
	// is, no other is proposed (raft would drop it silently).
	if last > n.applied {
		ents, err := st.Entries(n.applied+1, last+1, math.MaxUint64)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("read raft log: %w", err)
		}
		n.notePendingConf(ents)
	}
	if cfg.Bootstrap && raft.IsEmptyHardState(hs) && raft.IsEmptySnap(snap) && last == 0 {
		if err := rn.Bootstrap([]raft.Peer{{ID: cfg.ID, Context: wrap(0, cfg.BootstrapContext)}}); err != nil {
			st.Close()
			return nil, fmt.Errorf("bootstrap raft: %w", err)
		}
	}
	n.publish()
	return n, nil
}

// Run drives raft until ctx ends, one raft tick per value from ticks: the
// caller owns the clock (a time.Ticker's C in production, a channel of its
// own in a test). The caller owns the goroutine too. Run closes the
// storage on return.
func (n *Node) Run(ctx context.Context, ticks <-chan time.Time) error {
	defer close(n.done)
	defer n.store.Close()
	defer n.failAll(ErrStopped)
	defer n.failReads(ErrStopped)
	if err := n.start(); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticks:
			n.tick()
		case m := <-n.recv:
			n.step(m)
		case <-n.reports.ready:
			n.reports.drain(n.rn)
		case p := <-n.props:
			n.propose(p)
		case w := <-n.readReqs:
			n.queueRead(w)
		}
		n.sendReads()
		if err := n.advance(); err != nil {
			return err
		}
	}
}

// start applies what is committed already (a bootstrap's first
// configuration) before anything else, as raft does not campaign with it
// pending, and makes a lone voter campaign at once instead of waiting for
// an election timeout.
func (n *Node) start() error {
	if err := n.handleReady(); err != nil {
		return err
	}
	voters := n.rn.Status().Config.Voters.IDs()
	if _, me := voters[n.cfg.ID]; me && len(voters) == 1 {
		_ = n.rn.Campaign()
	}
	return nil
}

// tick advances raft's logical clock by one tick.
func (n *Node) tick() {
	n.ticks++
	n.rn.Tick()
	n.promoteLearners()
}

// step hands raft a message from another peer; messages from stale terms
// are dropped by raft.
func (n *Node) step(m raftpb.Message) { _ = n.rn.Step(m) }

// advance persists, sends and applies what raft has ready, and proposes
// the next queued membership change when raft can take it.
func (n *Node) advance() error {
	if err := n.handleReady(); err != nil {
		return err
	}
	n.proposeMembers()
	return n.handleReady()
}

// notePendingConf tracks the newest conf change in this peer's log from
// entries appended to it. Entries that replace the log's tail (a new leader
// overwrote uncommitted ones) drop a conf change they overwrote, so that a
// change that will never be applied does not block the next ones.
func (n *Node) notePendingConf(ents []raftpb.Entry) {
	if len(ents) > 0 && ents[0].Index <= n.pendingConf {
		n.pendingConf = 0
	}
	for _, e := range ents {
		if e.Type == raftpb.EntryConfChange || e.Type == raftpb.EntryConfChangeV2 {
			n.pendingConf = max(n.pendingConf, e.Index)
		}
	}
}

func (n *Node) propose(p proposal) {
	if p.member != nil {
		n.members = append(n.members, memberChange{id: p.id, cc: *p.member})
		return
	}
	if err := n.rn.Propose(p.data); err != nil {
		n.finish(p.id, result{err: fmt.Errorf("consensus: proposal dropped (no leader yet?): %w", err)})
	}
}

// handleReady persists, sends and applies everything raft has ready.
func (n *Node) handleReady() error {
	for n.rn.HasReady() {
		rd := n.rn.Ready()
		n.notePendingConf(rd.Entries)
		if err := n.store.Save(rd.HardState, rd.Entries, rd.Snapshot); err != nil {
			return fmt.Errorf("persist raft state: %w", err)
		}
		if !raft.IsEmptySnap(rd.Snapshot) {
			if err := n.sm.Restore(rd.Snapshot.Metadata.Index, rd.Snapshot.Data); err != nil {
				return fmt.Errorf("restore state from the leader's snapshot: %w", err)
			}
			n.applied = rd.Snapshot.Metadata.Index
			n.conf = rd.Snapshot.Metadata.ConfState
			n.log.Info("consensus state restored from snapshot", "index", n.applied)
		}
		if len(rd.Messages) > 0 {
			out := make([]Message, 0, len(rd.Messages))
			for _, m := range rd.Messages {
				b, err := m.Marshal()
				if err != nil {
					return fmt.Errorf("encode raft message: %w", err)
				}
				out = append(out, Message{To: m.To, Data: b, Snapshot: m.Type == raftpb.MsgSnap})
			}
			n.tr.Send(out)
		}
		for _, e := range rd.CommittedEntries {
			if err := n.apply(e); err != nil {
				return err
			}
		}
		for _, rs := range rd.ReadStates {
			n.readAnswered(rs.Index, rs.RequestCtx)
		}
		n.releaseReads()
		n.rn.Advance(rd)
		if err := n.maybeCompact(); err != nil {
			n.log.Error("consensus log compaction failed", "err", err)
		}
		n.publish()
	}
	n.publish()
	return nil
}

func (n *Node) apply(e raftpb.Entry) error {
	if e.Index <= n.applied {
		return nil
	}
	n.applied = e.Index
	n.sinceCompact++
	switch e.Type {
	case raftpb.EntryNormal:
		if len(e.Data) == 0 {
			return nil // a new leader's empty entry
		}
		id, data, ok := unwrap(e.Data)
		if !ok {
			return fmt.Errorf("consensus entry %d: malformed envelope", e.Index)
		}
		v, err := n.sm.Apply(e.Index, data)
		n.finish(id, result{value: v, err: err})
	case raftpb.EntryConfChange:
		var cc raftpb.ConfChange
		if err := cc.Unmarshal(e.Data); err != nil {
			return fmt.Errorf("consensus entry %d: %w", e.Index, err)
		}
		if n.redundant(cc) {
			// A change proposed twice (a proposer that retried while
			// its first proposal was on the way) is applied once: a
			// second AddLearner would demote a peer promoted since.
			n.log.Debug("redundant membership change ignored", "type", cc.Type.String(), "peer", cc.NodeID, "index", e.Index)
		} else {
			n.conf = *n.rn.ApplyConfChange(cc)
		}
		n.dropMember(cc)
		if cc.Type == raftpb.ConfChangeAddLearnerNode && n.cfg.CompactEntries > 0 {
			// A peer that joins after compaction starts from a
			// snapshot, which must already list it: snapshot now.
			n.sinceCompact = n.cfg.CompactEntries
		}
		id, ctxData, _ := unwrap(cc.Context)
		var err error
		if ch, ok := membership(cc, ctxData); ok {
			err = n.sm.ApplyMembership(e.Index, ch)
		}
		n.finish(id, result{err: err})
	}
	return nil
}

func membership(cc raftpb.ConfChange, ctx []byte) (Membership, bool) {
	switch cc.Type {
	case raftpb.ConfChangeAddLearnerNode:
		return Membership{Kind: AddLearner, Peer: cc.NodeID, Context: ctx}, true
	case raftpb.ConfChangeAddNode:
		return Membership{Kind: PromoteVoter, Peer: cc.NodeID, Context: ctx}, true
	case raftpb.ConfChangeRemoveNode:
		return Membership{Kind: RemovePeer, Peer: cc.NodeID, Context: ctx}, true
	}
	return Membership{}, false
}

func (n *Node) maybeCompact() error {
	if n.cfg.CompactEntries == 0 || n.sinceCompact < n.cfg.CompactEntries {
		return nil
	}
	data, err := n.sm.Snapshot()
	if err != nil {
		return fmt.Errorf("snapshot state machine: %w", err)
	}
	cs := n.conf
	if err := n.store.Compact(n.applied, &cs, data); err != nil {
		return err
	}
	n.sinceCompact = 0
	n.log.Debug("consensus log compacted", "index", n.applied)
	return nil
}

// promoteLearners, on the leader, queues a promotion to voter for each
// learner whose log has caught up with the commit index.
func (n *Node) promoteLearners() {
	st := n.rn.Status()
	if st.RaftState != raft.StateLeader || len(st.Config.Learners) == 0 || st.LeadTransferee != 0 {
		return
	}
	for id := range st.Config.Learners {
		if pr, ok := st.Progress[id]; ok && pr.Match >= st.Commit && !n.queued(raftpb.ConfChangeAddNode, id) {
			n.members = append(n.members, memberChange{cc: raftpb.ConfChange{Type: raftpb.ConfChangeAddNode, NodeID: id, Context: wrap(0, nil)}})
			n.log.Info("promoting caught-up learner to voter", "peer", id)
		}
	}
}

func (n *Node) publish() {
	bs := n.rn.BasicStatus()
	n.mu.Lock()
	pending := len(n.waiters)
	n.mu.Unlock()
	st := &Status{ID: n.cfg.ID, Term: bs.Term, Commit: bs.Commit, Applied: n.applied, Leader: bs.Lead,
		Role: roleName(bs.RaftState), Voters: append([]uint64(nil), n.conf.Voters...), Learners: append([]uint64(nil), n.conf.Learners...),
		PendingOperations: pending + len(n.props)}
	for _, v := range n.conf.Voters {
		st.IsVoter = st.IsVoter || v == n.cfg.ID
	}
	n.status.Store(st)
}

func roleName(s raft.StateType) string {
	switch s {
	case raft.StateLeader:
		return "Leader"
	case raft.StateCandidate:
		return "Candidate"
	case raft.StatePreCandidate:
		return "PreCandidate"
	}
	return "Follower"
}

// Status returns the latest raft status.
func (n *Node) Status() Status { return *n.status.Load() }

// Propose submits an operation and waits until this peer applied it,
// returning the state machine's result. A proposal that cannot commit
// before ctx ends fails with ErrTimeout.
func (n *Node) Propose(ctx context.Context, data []byte) (any, error) {
	return n.submit(ctx, proposal{data: data})
}

// ChangeMembership proposes a membership change with a context for the
// state machine, and waits until it is applied here.
func (n *Node) ChangeMembership(ctx context.Context, ch Membership) error {
	cc := raftpb.ConfChange{NodeID: ch.Peer}
	switch ch.Kind {
	case AddLearner:
		cc.Type = raftpb.ConfChangeAddLearnerNode
	case PromoteVoter:
		cc.Type = raftpb.ConfChangeAddNode
	case RemovePeer:
		cc.Type = raftpb.ConfChangeRemoveNode
	}
	_, err := n.submit(ctx, proposal{member: &cc, data: ch.Context})
	return err
}

// prepare gives a proposal its id, wraps its payload with it and registers
// its waiter.
func (n *Node) prepare(p proposal) proposal {
	p.id = n.nextID.Add(1)
	p.done = make(chan result, 1)
	if p.member != nil {
		p.member.Context = wrap(p.id, p.data)
	} else {
		p.data = wrap(p.id, p.data)
	}
	n.mu.Lock()
	n.waiters[p.id] = p.done
	n.mu.Unlock()
	return p
}

func (n *Node) forget(id uint64) {
	n.mu.Lock()
	delete(n.waiters, id)
	n.mu.Unlock()
}

func (n *Node) submit(ctx context.Context, p proposal) (any, error) {
	p = n.prepare(p)
	defer n.forget(p.id)
	select {
	case n.props <- p:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: the proposal queue is full", ErrTimeout)
	case <-n.done:
		return nil, ErrStopped
	}
	select {
	case r := <-p.done:
		return r.value, r.err
	case <-ctx.Done():
		return nil, ErrTimeout
	case <-n.done:
		return nil, ErrStopped
	}
}

func (n *Node) finish(id uint64, r result) {
	if id == 0 {
		return
	}
	n.mu.Lock()
	ch, ok := n.waiters[id]
	n.mu.Unlock()
	if ok {
		select {
		case ch <- r:
		default:
		}
	}
}

func (n *Node) failAll(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, ch := range n.waiters {
		select {
		case ch <- result{err: err}:
		default:
		}
	}
}

// ErrBadMessage marks a raft message that does not decode.
var ErrBadMessage = errors.New("consensus: malformed raft message")

// Step hands a message received from another peer to raft.
func (n *Node) Step(ctx context.Context, data []byte) error {
	m, err := DecodeMessage(data)
	if err != nil {
		return err
	}
	select {
	case n.recv <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.done:
		return ErrStopped
	}
}

// DecodeMessage decodes a raft message received from a peer; garbage gives
// ErrBadMessage, never a panic.
func DecodeMessage(data []byte) (m raftpb.Message, err error) {
	defer func() {
		if r := recover(); r != nil { // gogo's generated decoders are not fuzz-proof
			err = fmt.Errorf("%w: %v", ErrBadMessage, r)
		}
	}()
	if err := m.Unmarshal(data); err != nil {
		return m, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if m.To == 0 || m.From == 0 {
		return m, fmt.Errorf("%w: no sender or recipient", ErrBadMessage)
	}
	return m, nil
}

// Unreachable reports that a message to peer could not be delivered. It
// never blocks and is never lost: reports wait for the Run goroutine.
func (n *Node) Unreachable(peer uint64) { n.reports.unreachable(peer) }

// ReportSnapshot reports the end of the delivery of a snapshot message to
// peer (Message.Snapshot): delivered, or not (raft sends it again).
func (n *Node) ReportSnapshot(peer uint64, delivered bool) { n.reports.snapshot(peer, delivered) }

// wrap prefixes data with the proposal id so that the proposing peer can
// hand the result to its waiter.
func wrap(id uint64, data []byte) []byte {
	return append(binary.BigEndian.AppendUint64(nil, id), data...)
}

func unwrap(b []byte) (uint64, []byte, bool) {
	if len(b) < 8 {
		return 0, nil, false
	}
	return binary.BigEndian.Uint64(b), b[8:], true
}

// raftLogger sends the raft library's logs to slog.
type raftLogger struct{ l *slog.Logger }

func (r raftLogger) Debug(v ...any)              { r.l.Debug(fmt.Sprint(v...), "component", "raft") }
func (r raftLogger) Debugf(f string, v ...any)   { r.l.Debug(fmt.Sprintf(f, v...), "component", "raft") }
func (r raftLogger) Info(v ...any)               { r.l.Debug(fmt.Sprint(v...), "component", "raft") }
func (r raftLogger) Infof(f string, v ...any)    { r.l.Debug(fmt.Sprintf(f, v...), "component", "raft") }
func (r raftLogger) Warning(v ...any)            { r.l.Warn(fmt.Sprint(v...), "component", "raft") }
func (r raftLogger) Warningf(f string, v ...any) { r.l.Warn(fmt.Sprintf(f, v...), "component", "raft") }
func (r raftLogger) Error(v ...any)              { r.l.Error(fmt.Sprint(v...), "component", "raft") }
func (r raftLogger) Errorf(f string, v ...any)   { r.l.Error(fmt.Sprintf(f, v...), "component", "raft") }
func (r raftLogger) Fatal(v ...any) {
	r.l.Error(fmt.Sprint(v...), "component", "raft")
	panic(fmt.Sprint(v...))
}
func (r raftLogger) Fatalf(f string, v ...any) { r.Fatal(fmt.Sprintf(f, v...)) }
func (r raftLogger) Panic(v ...any)            { panic(fmt.Sprint(v...)) }
func (r raftLogger) Panicf(f string, v ...any) { panic(fmt.Sprintf(f, v...)) }

// MessageType names the raft message type of an encoded message, such as
// "MsgSnap" or "MsgApp", for tools and test harnesses that look at the
// traffic between peers without importing raft.
func MessageType(data []byte) (string, error) {
	m, err := DecodeMessage(data)
	if err != nil {
		return "", err
	}
	return m.Type.String(), nil
}
