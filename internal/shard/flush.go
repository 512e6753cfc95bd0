package shard

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/shoaldb/shoal/internal/vfs"
)

// checkpoint flushes the segments: new data files for the segments changed
// since the last flush, new deletes files for sealed segments that lost
// points, then the manifest naming them all with the operation number they
// cover, the clocks of the operations below it and the cutoff; then it
// removes the files no longer named and drops the WAL records the manifest
// covers. Only the update worker calls it, or Close
// after the worker stopped. A broken shard (broken.go) writes none, and a
// failed fsync breaks it, whoever asked (the worker, a snapshot, a cutoff).
func (s *Shard) checkpoint() error {
	if err := s.brokenErr(); err != nil {
		return err
	}
	err := s.writeCheckpoint()
	s.noteFailure(err)
	return err
}

// writeCheckpoint is checkpoint's work.
func (s *Shard) writeCheckpoint() error {
	// The WAL must be durable up to what the manifest covers: were the
	// manifest to survive a power loss that took the WAL's unsynced tail,
	// the WAL would hand out operation ids the segments already contain,
	// and the next recovery would skip those operations.
	if err := s.wal.Sync(); err != nil {
		return fmt.Errorf("sync wal before checkpoint: %w", err)
	}
	type written struct {
		g         *seg
		data, del string
	}
	var out []written
	var obsolete []string // files the new manifest stops naming
	var fresh []string    // files this flush wrote, removed if it fails
	wf := writeFunc(s.seams.writeFile)
	s.mu.RLock()
	h := s.mu.h
	applied := s.mu.applied
	m := &manifest{Version: manifestVer, Applied: applied, Clocks: encodeClocks(s.mu.clocks), Cutoff: encodeClocks(s.mu.cutoff)}
	if m.Clocks != nil || m.Cutoff != nil {
		m.Version = clocksVer
	}
	var err error
	for _, g := range h.segs {
		w := written{g: g, data: g.dataFile, del: g.deletesFile}
		switch {
		case g.dataFile == "" || g.dirty:
			// The worker is the only writer of nextFile outside the
			// optimizer's swap, which needs the write lock.
			h.nextFile++
			if w.data, err = writeSegmentFile(wf, s.dir, g.id, h.nextFile, g.store, applied); err != nil {
				break
			}
			fresh = append(fresh, w.data)
			w.del = ""
			obsolete = append(obsolete, g.dataFile, g.deletesFile)
		case g.delDirty:
			h.nextFile++
			if w.del, err = writeDeletesFile(wf, s.dir, g.id, h.nextFile, g.store.DeletedOffsets()); err != nil {
				break
			}
			fresh = append(fresh, w.del)
			obsolete = append(obsolete, g.deletesFile)
		}
		if err != nil {
			break
		}
		out = append(out, w)
		m.Segments = append(m.Segments, manifestSeg{ID: g.id, Appendable: g.appendable, Data: w.data, Deletes: w.del, Vectors: g.vectorFiles, Sparse: g.sparseFiles})
	}
	m.NextID, m.NextFile = h.nextID, h.nextFile
	retired := len(h.retired)
	obsolete = append(obsolete, h.retired...)
	s.mu.RUnlock()
	if err == nil {
		err = writeManifest(wf, s.dir, m)
	}
	if err != nil {
		// No manifest names them: give their space back now (a full
		// disk is the likely cause) rather than at the next Open. Not
		// after a failed fsync: that of the manifest's directory comes
		// after the rename, so the new manifest, naming them, may be
		// the one in place (and the next Open removes what no manifest
		// names anyway).
		if !errors.Is(err, vfs.ErrSyncFailed) {
			removeSegmentFiles(s.fs, s.dir, fresh)
		}
		return err
	}

	s.mu.Lock()
	for _, w := range out {
		w.g.dataFile, w.g.deletesFile = w.data, w.del
		w.g.dirty, w.g.delDirty = false, false
		if !slices.Contains(h.segs, w.g) {
			// Replaced by an optimization after the manifest was
			// built: its new files go with the next one (its vector
			// files were retired by the swap).
			h.retired = append(h.retired, w.data, w.del)
		}
	}
	h.retired = h.retired[retired:]
	h.changed = false
	s.mu.Unlock()

	var errs []error
	for _, f := range append(obsolete, legacyFile) {
		if f == "" {
			continue
		}
		p := filepath.Join(s.dir, segmentsDir, f)
		if f == legacyFile {
			p = filepath.Join(s.dir, f)
		}
		if s.deferRemoval(p) {
			continue
		}
		if err := s.fs.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove old segment file: %w", err))
		}
	}
	s.sinceCheckpoint = 0
	if err := s.wal.TruncateFront(applied); err != nil {
		errs = append(errs, fmt.Errorf("truncate wal after checkpoint: %w", err))
	}
	s.log.Debug("checkpoint written", "dir", s.dir, "operation_id", applied, "segments", len(m.Segments))
	return errors.Join(errs...)
}

// needsFlush reports whether the files lag behind the segments.
func (h *holder) needsFlush() bool {
	if h.changed || len(h.retired) > 0 {
		return true
	}
	for _, g := range h.segs {
		if g.dataFile == "" || g.dirty || g.delDirty {
			return true
		}
	}
	return false
}
