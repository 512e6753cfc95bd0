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
	"strconv"
	"strings"

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
// On disk: snapshot files named after their index, written atomically,
// and a WAL (internal/wal) of records replayed in order on open: an entries
// batch (a later batch overwriting the suffix it conflicts with, as
// raft.MemoryStorage.Append does), a hard state, or a checkpoint. A
// checkpoint record names a snapshot file and holds the whole state after
// it (the entries and the hard state) in one record, so it is durable whole
// or not at all; replay starts at the newest checkpoint and ignores what
// the WAL still holds before it. Taking a snapshot (Compact, or one from
// the leader in Save) writes the snapshot file, appends the checkpoint,
// fsyncs, then drops the older WAL segments and snapshot files: a crash at
// any step reopens on the old state or the new one, never a mix (the
// snapshot of the old state stays until the checkpoint of the new one is
// durable).
type Storage struct {
	*raft.MemoryStorage
	dir string
	fs  vfs.FS
	log *wal.Log
}

const (
	legacySnapshotFile = "raft-snapshot.bin" // the one snapshot file of earlier versions
	snapshotPrefix     = "raft-snapshot-"
	snapshotSuffix     = ".bin"
	recEntries         = 'E'
	recHardState       = 'H'
	recCheckpoint      = 'C'
	snapMagic          = "SHOALRS1"
)

func snapshotName(index uint64) string {
	return fmt.Sprintf("%s%020d%s", snapshotPrefix, index, snapshotSuffix)
}

// parseSnapshotName returns the index in a snapshot file name.
func parseSnapshotName(name string) (uint64, bool) {
	digits, ok := strings.CutPrefix(name, snapshotPrefix)
	if !ok {
		return 0, false
	}
	digits, ok = strings.CutSuffix(digits, snapshotSuffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	i, err := strconv.ParseUint(digits, 10, 64)
	return i, err == nil
}

// OpenStorage loads (or creates) the raft state under dir on the operating
// system's file system.
func OpenStorage(dir string, logger *slog.Logger) (*Storage, error) {
	return OpenStorageFS(vfs.Default, dir, logger)
}

// OpenStorageFS loads (or creates) the raft state under dir on fsys (nil:
// vfs.Default).
func OpenStorageFS(fsys vfs.FS, dir string, logger *slog.Logger) (*Storage, error) {
	return openStorage(fsys, dir, logger, 16<<20)
}

// openStorage is OpenStorageFS with the WAL's segment size (tests make it
// small to roll and drop segments).
func openStorage(fsys vfs.FS, dir string, logger *slog.Logger, segmentSize int64) (*Storage, error) {
	fsys = vfs.OrDefault(fsys)
	if logger == nil {
		logger = slog.Default()
	}
	if err := vfs.EnsureDir(fsys, dir, 0o755); err != nil {
		return nil, fmt.Errorf("create raft dir: %w", err)
	}
	s := &Storage{MemoryStorage: raft.NewMemoryStorage(), dir: dir, fs: fsys}
	l, err := wal.Open(filepath.Join(dir, "raft-wal"), wal.Options{SegmentSize: segmentSize, Logger: logger, FS: fsys})
	if err != nil {
		return nil, fmt.Errorf("open raft wal: %w", err)
	}
	s.log = l
	if err := s.load(); err != nil {
		l.Close()
		return nil, err
	}
	if err := s.removeOldSnapshots(); err != nil {
		logger.Warn("raft storage: removing old snapshot files", "dir", dir, "err", err)
	}
	return s, nil
}

// load replays the WAL from its newest checkpoint record; a WAL without
// one (written by an earlier version) starts from the legacy snapshot
// file, if any, and replays every record.
func (s *Storage) load() error {
	from, found := s.log.FirstIndex(), false
	err := s.log.Replay(from, func(i uint64, data []byte) error {
		if len(data) > 0 && data[0] == recCheckpoint {
			from, found = i, true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan raft wal: %w", err)
	}
	if !found {
		data, err := vfs.ReadFile(s.fs, filepath.Join(s.dir, legacySnapshotFile))
		switch {
		case err == nil:
			snap, err := decodeSnapshot(data)
			if err != nil {
				return err
			}
			if err := s.MemoryStorage.ApplySnapshot(snap); err != nil {
				return fmt.Errorf("load raft snapshot: %w", err)
			}
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("read raft snapshot: %w", err)
		}
	}
	if err := s.log.Replay(from, func(_ uint64, data []byte) error { return s.replay(data) }); err != nil {
		return fmt.Errorf("replay raft wal: %w", err)
	}
	return nil
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
		return s.appendReplayed(ents)
	case recCheckpoint:
		return s.replayCheckpoint(data[1:])
	}
	return errkind.Corruptf("corrupt raft state: record kind %q", data[0])
}

func (s *Storage) appendReplayed(ents []raftpb.Entry) error {
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

// replayCheckpoint resets the state to the checkpoint's: its snapshot, the
// entries after it and the hard state.
func (s *Storage) replayCheckpoint(b []byte) error {
	index, term, hs, ents, err := decodeCheckpoint(b)
	if err != nil {
		return err
	}
	data, err := vfs.ReadFile(s.fs, filepath.Join(s.dir, snapshotName(index)))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return errkind.Corruptf("corrupt raft state: the checkpoint at %d names a missing snapshot file", index)
		}
		return fmt.Errorf("read raft snapshot: %w", err)
	}
	snap, err := decodeSnapshot(data)
	if err != nil {
		return err
	}
	if snap.Metadata.Index != index || snap.Metadata.Term != term {
		return errkind.Corruptf("corrupt raft state: snapshot file %s holds index %d term %d, the checkpoint says %d term %d",
			snapshotName(index), snap.Metadata.Index, snap.Metadata.Term, index, term)
	}
	s.MemoryStorage = raft.NewMemoryStorage()
	if err := s.MemoryStorage.ApplySnapshot(snap); err != nil {
		return fmt.Errorf("load raft snapshot: %w", err)
	}
	if err := s.appendReplayed(ents); err != nil {
		return err
	}
	return s.MemoryStorage.SetHardState(hs)
}

// Save makes a Ready's snapshot, entries and hard state durable. Its WAL
// records (a checkpoint with the snapshot, the entries, the hard state) go
// in one append to one segment and one fsync, so a crash keeps all of a
// Save or none of it (or, where the disk kept part of an unsynced write, a
// prefix of its records, which raft restarts from too). A snapshot's file
// is written, and fsynced, first.
func (s *Storage) Save(hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot) error {
	var batch [][]byte
	checkpoint := false
	cur, _ := s.MemoryStorage.Snapshot()
	if !raft.IsEmptySnap(snap) && snap.Metadata.Index > cur.Metadata.Index {
		if err := s.writeSnapshot(snap); err != nil {
			return err
		}
		if err := s.MemoryStorage.ApplySnapshot(snap); err != nil {
			return fmt.Errorf("apply raft snapshot: %w", err)
		}
		// The checkpoint carries the hard state of this Ready, so that
		// it is never one whose commit index lags the snapshot.
		next, _, _ := s.MemoryStorage.InitialState()
		if !raft.IsEmptyHardState(hs) {
			next = hs
		}
		next.Commit = max(next.Commit, snap.Metadata.Index)
		if err := s.MemoryStorage.SetHardState(next); err != nil {
			return err
		}
		rec, err := s.checkpointRecord()
		if err != nil {
			return err
		}
		batch, checkpoint = append(batch, rec), true
	}
	if len(ents) > 0 {
		batch = append(batch, append([]byte{recEntries}, encodeEntries(ents)...))
	}
	if !raft.IsEmptyHardState(hs) {
		b, err := hs.Marshal()
		if err != nil {
			return fmt.Errorf("encode hard state: %w", err)
		}
		batch = append(batch, append([]byte{recHardState}, b...))
	}
	if len(batch) == 0 {
		return nil
	}
	at, err := s.log.AppendBatch(batch)
	if err != nil {
		return fmt.Errorf("append raft records: %w", err)
	}
	if len(ents) > 0 {
		if err := s.MemoryStorage.Append(ents); err != nil {
			return fmt.Errorf("store raft entries: %w", err)
		}
	}
	if !raft.IsEmptyHardState(hs) {
		if err := s.MemoryStorage.SetHardState(hs); err != nil {
			return err
		}
	}
	if err := s.log.Sync(); err != nil {
		return fmt.Errorf("sync raft wal: %w", err)
	}
	if checkpoint {
		return s.dropBefore(at)
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
	rec, err := s.checkpointRecord()
	if err != nil {
		return err
	}
	at, err := s.log.Append(rec)
	if err != nil {
		return fmt.Errorf("append raft checkpoint: %w", err)
	}
	if err := s.log.Sync(); err != nil {
		return fmt.Errorf("sync raft wal: %w", err)
	}
	return s.dropBefore(at)
}

// checkpointRecord encodes a checkpoint record of the in-memory state: its
// snapshot, the entries after it, the hard state.
func (s *Storage) checkpointRecord() ([]byte, error) {
	snap, err := s.MemoryStorage.Snapshot()
	if err != nil {
		return nil, err
	}
	hs, _, err := s.MemoryStorage.InitialState()
	if err != nil {
		return nil, err
	}
	var ents []raftpb.Entry
	first, _ := s.MemoryStorage.FirstIndex()
	last, _ := s.MemoryStorage.LastIndex()
	if last >= first {
		if ents, err = s.MemoryStorage.Entries(first, last+1, ^uint64(0)); err != nil {
			return nil, fmt.Errorf("read raft entries: %w", err)
		}
	}
	return encodeCheckpoint(snap.Metadata.Index, snap.Metadata.Term, hs, ents)
}

// dropBefore removes what a durable checkpoint at WAL index at made
// obsolete: the older WAL segments and snapshot files.
func (s *Storage) dropBefore(at uint64) error {
	if err := s.log.TruncateFront(at); err != nil {
		return fmt.Errorf("drop old raft records: %w", err)
	}
	return s.removeOldSnapshots()
}

// removeOldSnapshots removes the snapshot files other than the current
// one: older ones, and newer ones whose checkpoint never became durable.
func (s *Storage) removeOldSnapshots() error {
	cur, _ := s.MemoryStorage.Snapshot()
	names, err := s.fs.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("list raft dir: %w", err)
	}
	var errs []error
	for _, name := range names {
		index, ok := parseSnapshotName(name)
		stale := ok && index != cur.Metadata.Index
		// The legacy file is replaced by the first checkpoint.
		stale = stale || name == legacySnapshotFile && cur.Metadata.Index > 0 && s.hasCheckpointFile(cur.Metadata.Index)
		if stale {
			if err := s.fs.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (s *Storage) hasCheckpointFile(index uint64) bool {
	_, err := s.fs.Stat(filepath.Join(s.dir, snapshotName(index)))
	return err == nil
}

func (s *Storage) writeSnapshot(snap raftpb.Snapshot) error {
	b, err := snap.Marshal()
	if err != nil {
		return fmt.Errorf("encode raft snapshot: %w", err)
	}
	err = vfs.WriteFileAtomic(s.fs, filepath.Join(s.dir, snapshotName(snap.Metadata.Index)), func(w io.Writer) error {
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
