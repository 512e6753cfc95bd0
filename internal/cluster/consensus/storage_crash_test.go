package consensus

import (
	"fmt"
	"io"
	"log"
	"testing"

	"github.com/shoaldb/shoal/internal/vfs/vfstest"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// storageOp is one call a raft driver makes on its storage, applied to the
// Storage under test and to a raft.MemoryStorage that models it.
type storageOp struct {
	name string
	hs   raftpb.HardState
	ents []raftpb.Entry
	snap raftpb.Snapshot
	// compact > 0: Compact(compact, voters, data) instead of Save
	compact uint64
	data    string
}

func (op storageOp) apply(s *Storage) error {
	if op.compact > 0 {
		return s.Compact(op.compact, &raftpb.ConfState{Voters: []uint64{1, 2, 3}}, []byte(op.data))
	}
	return s.Save(op.hs, op.ents, op.snap)
}

func (op storageOp) model(m *raft.MemoryStorage) error {
	if op.compact > 0 {
		if _, err := m.CreateSnapshot(op.compact, &raftpb.ConfState{Voters: []uint64{1, 2, 3}}, []byte(op.data)); err != nil {
			return err
		}
		return m.Compact(op.compact)
	}
	if !raft.IsEmptySnap(op.snap) {
		if err := m.ApplySnapshot(op.snap); err != nil {
			return err
		}
	}
	if len(op.ents) > 0 {
		if err := m.Append(op.ents); err != nil {
			return err
		}
	}
	if !raft.IsEmptyHardState(op.hs) {
		return m.SetHardState(op.hs)
	}
	return nil
}

// bigEnts are ents with 200 bytes of data each, so that a few of them fill
// a WAL segment of crashSegmentSize.
func bigEnts(term, from, to uint64) []raftpb.Entry {
	out := ents(term, from, to)
	for i := range out {
		out[i].Data = append(out[i].Data, make([]byte, 200)...)
	}
	return out
}

// crashSegmentSize makes the workload roll WAL segments, so that
// checkpoints drop whole segments.
const crashSegmentSize = 512

func leaderSnap(index, term uint64, data string) raftpb.Snapshot {
	return raftpb.Snapshot{Data: []byte(data), Metadata: raftpb.SnapshotMetadata{Index: index, Term: term, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}}
}

// crashWorkload covers what a peer's storage goes through: appends, a
// conflicting suffix from a new leader, compactions, a snapshot from the
// leader past the end of the log (commit index behind it), and one that
// lands inside the log, on entries of an older term.
var crashWorkload = []storageOp{
	{name: "append 1..3", hs: raftpb.HardState{Term: 1, Vote: 1, Commit: 1}, ents: bigEnts(1, 1, 3)},
	{name: "append 4..6", hs: raftpb.HardState{Term: 1, Vote: 1, Commit: 3}, ents: bigEnts(1, 4, 6)},
	{name: "hard state only", hs: raftpb.HardState{Term: 2, Vote: 0, Commit: 3}},
	{name: "conflicting suffix 5..7 at term 2", hs: raftpb.HardState{Term: 2, Vote: 2, Commit: 4}, ents: bigEnts(2, 5, 7)},
	{name: "compact at 4", compact: 4, data: "image@4"},
	{name: "append 8..9", hs: raftpb.HardState{Term: 2, Vote: 2, Commit: 6}, ents: bigEnts(2, 8, 9)},
	{name: "snapshot inside the log, over older terms", hs: raftpb.HardState{Term: 3, Vote: 3, Commit: 8}, snap: leaderSnap(8, 3, "image@8")},
	{name: "append 9..10 at term 3", hs: raftpb.HardState{Term: 3, Vote: 3, Commit: 9}, ents: bigEnts(3, 9, 10)},
	{name: "snapshot past the log", hs: raftpb.HardState{Term: 4, Vote: 0, Commit: 20}, snap: leaderSnap(20, 4, "image@20")},
	{name: "append 21..23", hs: raftpb.HardState{Term: 4, Vote: 0, Commit: 22}, ents: bigEnts(4, 21, 23)},
	{name: "compact at 22", compact: 22, data: "image@22"},
	{name: "append 24", hs: raftpb.HardState{Term: 4, Vote: 0, Commit: 24}, ents: bigEnts(4, 24, 24)},
}

// observe renders what a RawNode would read from s.
func observe(s raft.Storage) (state, error) {
	hs, cs, err := s.InitialState()
	if err != nil {
		return state{}, err
	}
	first, _ := s.FirstIndex()
	last, _ := s.LastIndex()
	st := state{hs: hs, first: first, last: last, voters: cs.Voters}
	for i := first; i <= last; i++ {
		term, err := s.Term(i)
		if err != nil {
			return state{}, err
		}
		st.terms = append(st.terms, term)
	}
	snap, err := s.Snapshot()
	if err != nil {
		return state{}, err
	}
	st.snapIndex, st.snapData = snap.Metadata.Index, string(snap.Data)
	return st, nil
}

// raftConsistent checks what etcd raft assumes of a restarted peer's
// storage, and boots a RawNode on it (which panics on a commit index out of
// range).
func raftConsistent(s raft.Storage) (err error) {
	st, err := observe(s)
	if err != nil {
		return err
	}
	snap, _ := s.Snapshot()
	if st.first != st.snapIndex+1 {
		return fmt.Errorf("first index %d after a snapshot at %d", st.first, st.snapIndex)
	}
	prev := snap.Metadata.Term
	for i, term := range st.terms {
		if term < prev {
			return fmt.Errorf("entry %d has term %d after term %d", st.first+uint64(i), term, prev)
		}
		prev = term
	}
	if st.hs.Term < prev {
		return fmt.Errorf("hard state term %d below the last entry's term %d", st.hs.Term, prev)
	}
	if st.hs.Commit < st.snapIndex || st.hs.Commit > st.last {
		return fmt.Errorf("commit index %d outside [%d, %d]", st.hs.Commit, st.snapIndex, st.last)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("raft panics on this state: %v", r)
		}
	}()
	_, err = raft.NewRawNode(&raft.Config{ID: 1, ElectionTick: 10, HeartbeatTick: 1, Storage: s,
		MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 16, Logger: &raft.DefaultLogger{Logger: log.New(io.Discard, "", 0)}})
	return err
}

// TestStorageCrashPoints crashes the storage at every fsync of the
// workload in turn (power loss: what was not fsynced is gone), reopens it on
// what survived and checks that the state is one raft can restart from and
// is that of the last call that returned or of the call in flight: nothing
// acknowledged is lost, nothing half done shows.
func TestStorageCrashPoints(t *testing.T) {
	const dir = "/raft"
	// The states the model goes through: want[i] after the first i calls.
	model := raft.NewMemoryStorage()
	want := []state{}
	st, _ := observe(model)
	want = append(want, st)
	for _, op := range crashWorkload {
		if err := op.model(model); err != nil {
			t.Fatalf("model %s: %v", op.name, err)
		}
		st, _ := observe(model)
		want = append(want, st)
	}

	// run opens the storage on fsys and applies the workload until a call
	// fails; it returns how many calls returned nil.
	run := func(fsys *vfstest.FaultFS) int {
		s, err := openStorage(fsys, dir, quiet(), crashSegmentSize)
		if err != nil {
			return 0
		}
		defer s.Close()
		for i, op := range crashWorkload {
			if err := op.apply(s); err != nil {
				return i
			}
		}
		return len(crashWorkload)
	}
	count := vfstest.Wrap(vfstest.NewMem())
	if done := run(count); done != len(crashWorkload) {
		t.Fatalf("the workload fails without faults after %d calls", done)
	}
	points := count.Syncs()
	if segs, _ := count.ReadDir(dir + "/raft-wal"); len(segs) == 0 || segs[0] == "00000000000000000000.wal" {
		t.Fatalf("setup: the workload leaves WAL segments %v, want the first ones rolled and dropped", segs)
	}

	checked, violations := 0, 0
	for k := 0; k <= points; k++ {
		mem := vfstest.NewMem()
		fsys := vfstest.Wrap(mem)
		var clone *vfstest.MemFS
		var at string
		fsys.CrashAtSync(k, func(path string) { clone, at = mem.CrashClone(), path })
		done := run(fsys)
		if clone == nil { // k == points: crash once everything returned
			clone, at = mem.CrashClone(), "(after the last call)"
		}
		fail := func(format string, args ...any) {
			t.Helper()
			violations++
			t.Errorf("crash at fsync %d of %s (%d calls returned): %s", k, at, done, fmt.Sprintf(format, args...))
		}
		s, err := openStorage(clone, dir, quiet(), crashSegmentSize)
		if err != nil {
			fail("reopen: %v", err)
			continue
		}
		got, err := observe(s)
		checked++
		switch {
		case err != nil:
			fail("read: %v", err)
		case !equal(got, want[done]) && (done == len(crashWorkload) || !equal(got, want[done+1])):
			fail("state %+v\nis neither that after the last returned call (%+v)\nnor after the one in flight", got, want[done])
		}
		if err := raftConsistent(s.MemoryStorage); err != nil {
			fail("%v", err)
		}
		// The reopened storage takes new writes and keeps them.
		last, _ := s.LastIndex()
		hs, _, _ := s.InitialState()
		next := raftpb.Entry{Term: max(hs.Term, 9), Index: last + 1, Data: []byte("after")}
		hs.Term = next.Term
		if err := s.Save(hs, []raftpb.Entry{next}, raftpb.Snapshot{}); err != nil {
			fail("write after reopen: %v", err)
		}
		s.Close()
		s2, err := openStorage(clone, dir, quiet(), crashSegmentSize)
		if err != nil {
			fail("second reopen: %v", err)
			continue
		}
		if l, _ := s2.LastIndex(); l != next.Index {
			fail("the write after reopen is gone: last index %d, want %d", l, next.Index)
		}
		s2.Close()
	}
	t.Logf("consensus storage: %d fsync points, %d crash points tried, %d states checked, %d violations", points, points+1, checked, violations)
	if points < 2*len(crashWorkload) {
		t.Fatalf("the workload made only %d fsyncs", points)
	}
}
