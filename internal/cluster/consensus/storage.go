package consensus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/vfs"
	"github.com/shoaldb/shoal/internal/wal"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// Storage persists one peer's raft state: the log, the hard state and the
// latest snapshot. The RawNode reads them through the embedded
// raft.MemoryStorage; Save makes a Ready durable (fsync) before its
// messages leave.
//
// On disk: a WAL (internal/wal) of records, each an entries batch or a
// hard state, replayed in order on open (a later batch overwriting the
// suffix it conflicts with, as raft.MemoryStorage.Append does), and a
// snapshot file written atomically. Compact writes a snapshot, appends the
// hard state and the entries after it, and drops the older records, so a
// crash at any step leaves a log that replays to the same state.
type Storage struct {
	*raft.MemoryStorage
	dir string
	fs  vfs.FS
	log *wal.Log
}

const (
	snapshotFile = "raft-snapshot.bin"
	recEntries   = 'E'
	recHardState = 'H'
	snapMagic    = "SHOALRS1"
)

// OpenStorage loads (or creates) the raft state under dir on the operating
// system's file system.
func OpenStorage(dir string, logger *slog.Logger) (*Storage, error) {
	return OpenStorageFS(vfs.Default, dir, logger)
}

// OpenStorageFS loads (or creates) the raft state under dir on fsys (nil:
// vfs.Default).
func OpenStorageFS(fsys vfs.FS, dir string, logger *slog.Logger) (*Storage, error) {
	fsys = vfs.OrDefault(fsys)
	if err := vfs.EnsureDir(fsys, dir, 0o755); err != nil {
		return nil, fmt.Errorf("create raft dir: %w", err)
	}
	s := &Storage{MemoryStorage: raft.NewMemoryStorage(), dir: dir, fs: fsys}
	if data, err := vfs.ReadFile(fsys, filepath.Join(dir, snapshotFile)); err == nil {
		snap, err := decodeSnapshot(data)
		if err != nil {
			return nil, err
		}
		if err := s.MemoryStorage.ApplySnapshot(snap); err != nil {
			return nil, fmt.Errorf("load raft snapshot: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read raft snapshot: %w", err)
	}
	l, err := wal.Open(filepath.Join(dir, "raft-wal"), wal.Options{SegmentSize: 16 << 20, Logger: logger, FS: fsys})
	if err != nil {
		return nil, fmt.Errorf("open raft wal: %w", err)
	}
	s.log = l
	err = l.Replay(l.FirstIndex(), func(_ uint64, data []byte) error { return s.replay(data) })
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("replay raft wal: %w", err)
	}
	return s, nil
}

func (s *Storage) replay(data []byte) error {
	if len(data) == 0 {
		return errkind.Corruptf("corrupt raft state: empty record")
	}
	switch data[0] {
	case recHardState:
		var hs raftpb.HardState
		if err := hs.Unmarshal(data[1:]); err != nil {
			return errkind.Corruptf("corrupt raft state: hard state: %v", err)
		}
		return s.MemoryStorage.SetHardState(hs)
	case recEntries:
		ents, err := decodeEntries(data[1:])
		if err != nil {
			return err
		}
		snap, _ := s.MemoryStorage.Snapshot()
		// Entries the snapshot covers were compacted away.
		for len(ents) > 0 && ents[0].Index <= snap.Metadata.Index {
			ents = ents[1:]
		}
		if len(ents) == 0 {
			return nil
		}
		last, _ := s.MemoryStorage.LastIndex()
		if ents[0].Index > last+1 {
			return errkind.Corruptf("corrupt raft state: entries from %d after a log ending at %d", ents[0].Index, last)
		}
		return s.MemoryStorage.Append(ents)
	}
	return errkind.Corruptf("corrupt raft state: record kind %q", data[0])
}

// Save makes a Ready's snapshot, entries and hard state durable, in that
// order, with one fsync.
func (s *Storage) Save(hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot) error {
	if !raft.IsEmptySnap(snap) {
		if err := s.writeSnapshot(snap); err != nil {
			return err
		}
		if err := s.MemoryStorage.ApplySnapshot(snap); err != nil && !errors.Is(err, raft.ErrSnapOutOfDate) {
			return fmt.Errorf("apply raft snapshot: %w", err)
		}
		// The log before the snapshot is obsolete.
		if err := s.rewriteLog(); err != nil {
			return err
		}
	}
	if len(ents) > 0 {
		if _, err := s.log.Append(append([]byte{recEntries}, encodeEntries(ents)...)); err != nil {
			return fmt.Errorf("append raft entries: %w", err)
		}
		if err := s.MemoryStorage.Append(ents); err != nil {
			return fmt.Errorf("store raft entries: %w", err)
		}
	}
	if !raft.IsEmptyHardState(hs) {
		b, err := hs.Marshal()
		if err != nil {
			return fmt.Errorf("encode hard state: %w", err)
		}
		if _, err := s.log.Append(append([]byte{recHardState}, b...)); err != nil {
			return fmt.Errorf("append hard state: %w", err)
		}
		if err := s.MemoryStorage.SetHardState(hs); err != nil {
			return err
		}
	}
	if err := s.log.Sync(); err != nil {
		return fmt.Errorf("sync raft wal: %w", err)
	}
	return nil
}

// Compact snapshots the state machine at applied index i (data is its
// image) and drops the log entries up to i.
func (s *Storage) Compact(i uint64, cs *raftpb.ConfState, data []byte) error {
	snap, err := s.MemoryStorage.CreateSnapshot(i, cs, data)
	if err != nil {
		if errors.Is(err, raft.ErrSnapOutOfDate) {
			return nil
		}
		return fmt.Errorf("create raft snapshot: %w", err)
	}
	if err := s.writeSnapshot(snap); err != nil {
		return err
	}
	if err := s.MemoryStorage.Compact(i); err != nil && !errors.Is(err, raft.ErrCompacted) {
		return fmt.Errorf("compact raft log: %w", err)
	}
	return s.rewriteLog()
}

// rewriteLog appends the hard state and the entries after the snapshot,
// fsyncs, then drops every older record.
func (s *Storage) rewriteLog() error {
	hs, _, err := s.MemoryStorage.InitialState()
	if err != nil {
		return err
	}
	first, _ := s.MemoryStorage.FirstIndex()
	last, _ := s.MemoryStorage.LastIndex()
	start := s.log.NextIndex()
	if last >= first {
		ents, err := s.MemoryStorage.Entries(first, last+1, ^uint64(0))
		if err != nil {
			return fmt.Errorf("read raft entries: %w", err)
		}
		if _, err := s.log.Append(append([]byte{recEntries}, encodeEntries(ents)...)); err != nil {
			return fmt.Errorf("append raft entries: %w", err)
		}
	}
	b, err := hs.Marshal()
	if err != nil {
		return fmt.Errorf("encode hard state: %w", err)
	}
	if _, err := s.log.Append(append([]byte{recHardState}, b...)); err != nil {
		return fmt.Errorf("append hard state: %w", err)
	}
	if err := s.log.Sync(); err != nil {
		return fmt.Errorf("sync raft wal: %w", err)
	}
	if err := s.log.TruncateFront(start); err != nil {
		return fmt.Errorf("drop old raft records: %w", err)
	}
	return nil
}

func (s *Storage) writeSnapshot(snap raftpb.Snapshot) error {
	b, err := snap.Marshal()
	if err != nil {
		return fmt.Errorf("encode raft snapshot: %w", err)
	}
	err = vfs.WriteFileAtomic(s.fs, filepath.Join(s.dir, snapshotFile), func(w io.Writer) error {
		out := append([]byte(snapMagic), b...)
		out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, castagnoli))
		_, err := w.Write(out)
		return err
	})
	if err != nil {
		return fmt.Errorf("write raft snapshot: %w", err)
	}
	return nil
}

// Close closes the log.
func (s *Storage) Close() error { return s.log.Close() }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func decodeSnapshot(data []byte) (raftpb.Snapshot, error) {
	var snap raftpb.Snapshot
	if len(data) < len(snapMagic)+4 || string(data[:len(snapMagic)]) != snapMagic {
		return snap, errkind.Corruptf("corrupt raft state: snapshot header")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return snap, errkind.Corruptf("corrupt raft state: snapshot checksum")
	}
	if err := snap.Unmarshal(body[len(snapMagic):]); err != nil {
		return snap, errkind.Corruptf("corrupt raft state: snapshot: %v", err)
	}
	return snap, nil
}

// encodeEntries frames each entry with its length.
func encodeEntries(ents []raftpb.Entry) []byte {
	var out []byte
	for i := range ents {
		b, _ := ents[i].Marshal() // plain protobuf of plain fields: cannot fail
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	return out
}

func decodeEntries(b []byte) ([]raftpb.Entry, error) {
	var out []raftpb.Entry
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, errkind.Corruptf("corrupt raft state: entry frame")
		}
		var e raftpb.Entry
		if err := e.Unmarshal(b[k : k+int(n)]); err != nil {
			return nil, errkind.Corruptf("corrupt raft state: entry: %v", err)
		}
		if len(out) > 0 && e.Index != out[len(out)-1].Index+1 {
			return nil, errkind.Corruptf("corrupt raft state: entries out of order")
		}
		out = append(out, e)
		b = b[k+int(n):]
	}
	if len(out) == 0 {
		return nil, errkind.Corruptf("corrupt raft state: empty entries record")
	}
	return out, nil
}
