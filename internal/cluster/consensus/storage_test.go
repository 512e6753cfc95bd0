package consensus

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/wal"
	"go.etcd.io/raft/v3/raftpb"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func ents(term uint64, from, to uint64) []raftpb.Entry {
	var out []raftpb.Entry
	for i := from; i <= to; i++ {
		out = append(out, raftpb.Entry{Term: term, Index: i, Data: []byte{byte(term), byte(i)}})
	}
	return out
}

func open(t *testing.T, dir string) *Storage {
	t.Helper()
	s, err := OpenStorage(dir, quiet())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

// state renders what a RawNode would read.
type state struct {
	hs          raftpb.HardState
	first, last uint64
	terms       []uint64
	snapIndex   uint64
	snapData    string
	voters      []uint64
}

func read(t *testing.T, s *Storage) state {
	t.Helper()
	hs, cs, err := s.InitialState()
	if err != nil {
		t.Fatal(err)
	}
	first, _ := s.FirstIndex()
	last, _ := s.LastIndex()
	st := state{hs: hs, first: first, last: last, voters: cs.Voters}
	for i := first; i <= last; i++ {
		term, err := s.Term(i)
		if err != nil {
			t.Fatal(err)
		}
		st.terms = append(st.terms, term)
	}
	snap, _ := s.Snapshot()
	st.snapIndex, st.snapData = snap.Metadata.Index, string(snap.Data)
	return st
}

func equal(a, b state) bool {
	if a.hs != b.hs || a.first != b.first || a.last != b.last || a.snapIndex != b.snapIndex || a.snapData != b.snapData || len(a.terms) != len(b.terms) || len(a.voters) != len(b.voters) {
		return false
	}
	for i := range a.terms {
		if a.terms[i] != b.terms[i] {
			return false
		}
	}
	for i := range a.voters {
		if a.voters[i] != b.voters[i] {
			return false
		}
	}
	return true
}

// TestStorageSurvivesReopen: every step, then a reopen, gives the state
// the in-memory storage had.
func TestStorageSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	steps := []struct {
		name string
		do   func() error
		want func(st state) bool
	}{
		{"append 1..5", func() error {
			return s.Save(raftpb.HardState{Term: 1, Vote: 1, Commit: 2}, ents(1, 1, 5), raftpb.Snapshot{})
		},
			func(st state) bool { return st.first == 1 && st.last == 5 && st.hs.Commit == 2 }},
		{"conflicting suffix 4..6 at term 2", func() error {
			return s.Save(raftpb.HardState{Term: 2, Vote: 3, Commit: 3}, ents(2, 4, 6), raftpb.Snapshot{})
		},
			func(st state) bool { return st.last == 6 && st.terms[2] == 1 && st.terms[3] == 2 && st.hs.Vote == 3 }},
		{"compact at 4", func() error { return s.Compact(4, &raftpb.ConfState{Voters: []uint64{1, 3}}, []byte("image@4")) },
			func(st state) bool {
				return st.first == 5 && st.last == 6 && st.snapIndex == 4 && st.snapData == "image@4" && len(st.voters) == 2
			}},
		{"more entries", func() error {
			return s.Save(raftpb.HardState{Term: 2, Vote: 3, Commit: 6}, ents(2, 7, 9), raftpb.Snapshot{})
		},
			func(st state) bool { return st.first == 5 && st.last == 9 && st.hs.Commit == 6 }},
		{"snapshot from the leader inside the log, over entries of an older term", func() error {
			snap := raftpb.Snapshot{Data: []byte("image@8"), Metadata: raftpb.SnapshotMetadata{Index: 8, Term: 3, ConfState: raftpb.ConfState{Voters: []uint64{1, 3}}}}
			return s.Save(raftpb.HardState{Term: 3, Vote: 3, Commit: 8}, nil, snap)
		}, func(st state) bool {
			// Entry 9 (term 2) went with the snapshot; a reopen must not
			// bring it back from the WAL.
			return st.first == 9 && st.last == 8 && st.snapIndex == 8 && st.hs.Commit == 8
		}},
		{"snapshot from the leader", func() error {
			snap := raftpb.Snapshot{Data: []byte("image@20"), Metadata: raftpb.SnapshotMetadata{Index: 20, Term: 3, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}}
			return s.Save(raftpb.HardState{Term: 3, Vote: 2, Commit: 20}, nil, snap)
		}, func(st state) bool {
			return st.first == 21 && st.last == 20 && st.snapIndex == 20 && st.snapData == "image@20" && len(st.voters) == 3
		}},
		{"entries after the snapshot", func() error {
			return s.Save(raftpb.HardState{Term: 3, Vote: 2, Commit: 21}, ents(3, 21, 22), raftpb.Snapshot{})
		},
			func(st state) bool { return st.first == 21 && st.last == 22 }},
	}
	for _, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		before := read(t, s)
		if !step.want(before) {
			t.Fatalf("%s: unexpected state %+v", step.name, before)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = open(t, dir)
		if after := read(t, s); !equal(before, after) {
			t.Fatalf("%s: after reopen\n%+v\nwant\n%+v", step.name, after, before)
		}
	}
	s.Close()
}

func TestStorageRejectsDamage(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.Save(raftpb.HardState{Term: 1, Commit: 1}, ents(1, 1, 3), raftpb.Snapshot{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(2, &raftpb.ConfState{Voters: []uint64{1}}, []byte("x")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	p := filepath.Join(dir, snapshotName(2))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStorage(dir, quiet()); !errors.Is(err, errkind.ErrCorrupt) {
		t.Fatalf("damaged snapshot: %v, want errkind.ErrCorrupt", err)
	}
}

// TestStorageOpensLegacyLayout: a directory written before checkpoint
// records (one raft-snapshot.bin, a WAL of entries and hard states replayed
// on top of it) opens to the same state, and the first compaction moves it
// to the new layout.
func TestStorageOpensLegacyLayout(t *testing.T) {
	dir := t.TempDir()
	snap := raftpb.Snapshot{Data: []byte("old"), Metadata: raftpb.SnapshotMetadata{Index: 3, Term: 1, ConfState: raftpb.ConfState{Voters: []uint64{1}}}}
	b, err := snap.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	out := append([]byte(snapMagic), b...)
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, castagnoli))
	if err := os.WriteFile(filepath.Join(dir, legacySnapshotFile), out, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := wal.Open(filepath.Join(dir, "raft-wal"), wal.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	hs, _ := (&raftpb.HardState{Term: 1, Vote: 1, Commit: 4}).Marshal()
	for _, rec := range [][]byte{
		append([]byte{recEntries}, encodeEntries(ents(1, 1, 5))...), // 1..3 are in the snapshot
		append([]byte{recHardState}, hs...),
	} {
		if _, err := l.Append(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	s := open(t, dir)
	got := read(t, s)
	if got.first != 4 || got.last != 5 || got.snapIndex != 3 || got.snapData != "old" || got.hs.Commit != 4 {
		t.Fatalf("legacy layout read as %+v", got)
	}
	if err := s.Compact(4, &raftpb.ConfState{Voters: []uint64{1}}, []byte("new")); err != nil {
		t.Fatal(err)
	}
	want := read(t, s)
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, legacySnapshotFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the legacy snapshot file stays after a compaction: %v", err)
	}
	s = open(t, dir)
	defer s.Close()
	if got := read(t, s); !equal(got, want) {
		t.Fatalf("after the compaction and a reopen: %+v, want %+v", got, want)
	}
}

func FuzzDecodeCheckpoint(f *testing.F) {
	rec, _ := encodeCheckpoint(4, 2, raftpb.HardState{Term: 2, Commit: 4}, ents(2, 5, 6))
	f.Add(rec[1:])
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		index, _, _, es, err := decodeCheckpoint(b)
		if err == nil && len(es) > 0 && es[0].Index != index+1 {
			t.Fatalf("entries from %d after a snapshot at %d", es[0].Index, index)
		}
	})
}

func FuzzDecodeEntries(f *testing.F) {
	f.Add(encodeEntries(ents(1, 1, 3)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := decodeEntries(b)
		if err == nil && len(es) == 0 {
			t.Fatal("no error and no entries")
		}
	})
}

func FuzzDecodeSnapshot(f *testing.F) {
	f.Add([]byte(snapMagic + "garbage1234"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeSnapshot(b)
	})
}
