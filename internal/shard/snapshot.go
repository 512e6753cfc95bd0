package shard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"slices"

	"github.com/shoaldb/shoal/internal/snapshot"
	"github.com/shoaldb/shoal/internal/vfs"
)

// Snapshots (Qdrant's local shard snapshot). A shard's files are never
// rewritten in place (persist.go), so a consistent image is a manifest and
// the files it names, kept from removal while they are copied:
//
//  1. Snapshot queues a request behind the updates logged before it; the
//     worker, in its order, checkpoints (every operation before the
//     request is in the files, none after) and pins the files of that
//     manifest. Writes wait for that checkpoint only, not for the copy.
//  2. Snapshot copies the manifest and its files into the archive while
//     updates, flushes and optimizations go on: a checkpoint meanwhile
//     leaves the files it retires to the last unpin, which removes them.
//
// The image holds the points, vectors, payloads, payload indexes, graphs
// and the clocks and cutoff of the operations it covers (the manifest),
// not the WAL: a shard opened on it starts an empty WAL numbered after the
// operations the manifest covers.

// ErrNotStarted is returned by Snapshot on a shard whose worker does not
// run.
var ErrNotStarted = errors.New("shard not started")

// SnapshotMeta describes a shard image (the meta of a shard archive).
type SnapshotMeta struct {
	// Applied is the number of operations the image covers.
	Applied uint64 `json:"applied"`
	// Points is the number of points it holds.
	Points int `json:"points"`
}

type snapStart struct {
	manifest []byte
	files    []string // under segments/
	meta     SnapshotMeta
	err      error
}

// Snapshot writes a consistent image of the shard to w, its files named
// under prefix (a slash-separated directory, "" for the archive's root):
// prefix/segments.json and prefix/segments/<file>. ctx stops the copy.
func (s *Shard) Snapshot(ctx context.Context, w *snapshot.Writer, prefix string) (SnapshotMeta, error) {
	done := make(chan snapStart, 1)
	s.appendMu.Lock()
	switch {
	case s.closed:
		s.appendMu.Unlock()
		return SnapshotMeta{}, ErrClosed
	case !s.started:
		s.appendMu.Unlock()
		return SnapshotMeta{}, ErrNotStarted
	}
	s.queue <- pending{snap: done}
	s.appendMu.Unlock()
	// The worker answers once its checkpoint is written; not waiting
	// (ctx) would leave the pin held.
	st := <-done
	if st.err != nil {
		return SnapshotMeta{}, fmt.Errorf("snapshot checkpoint: %w", st.err)
	}
	defer s.unpin()
	if err := w.AddBytes(path.Join(prefix, manifestFile), st.manifest); err != nil {
		return SnapshotMeta{}, err
	}
	for _, f := range st.files {
		if err := ctx.Err(); err != nil {
			return SnapshotMeta{}, err
		}
		if err := s.copyFile(w, path.Join(prefix, segmentsDir, f), filepath.Join(s.dir, segmentsDir, f)); err != nil {
			return SnapshotMeta{}, err
		}
	}
	return st.meta, nil
}

func (s *Shard) copyFile(w *snapshot.Writer, name, p string) error {
	f, err := vfs.Open(s.fs, p)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return w.AddFile(name, fi.Size(), f)
}

// startSnapshot is the worker's step of Snapshot: the operations before
// the request are applied; it checkpoints and pins the files.
func (s *Shard) startSnapshot(done chan snapStart) {
	if err := s.checkpoint(); err != nil {
		done <- snapStart{err: err}
		return
	}
	raw, err := vfs.ReadFile(s.fs, filepath.Join(s.dir, manifestFile))
	if err != nil {
		done <- snapStart{err: err}
		return
	}
	m, err := readManifest(s.fs, s.dir)
	if err != nil {
		done <- snapStart{err: err}
		return
	}
	s.pins.Lock()
	s.pins.n++
	s.pins.Unlock()
	s.mu.RLock()
	points := s.mu.h.Len()
	s.mu.RUnlock()
	done <- snapStart{manifest: raw, files: manifestFiles(m), meta: SnapshotMeta{Applied: m.Applied, Points: points}}
}

// manifestFiles lists the files m names, sorted.
func manifestFiles(m *manifest) []string {
	var out []string
	for _, sg := range m.Segments {
		out = append(out, sg.Data)
		if sg.Deletes != "" {
			out = append(out, sg.Deletes)
		}
		for _, f := range sg.Vectors {
			out = append(out, f)
		}
		for _, f := range sg.Sparse {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// deferRemoval keeps the file at p while a snapshot copies: it reports
// whether it took the removal over.
func (s *Shard) deferRemoval(p string) bool {
	s.pins.Lock()
	defer s.pins.Unlock()
	if s.pins.n == 0 {
		return false
	}
	s.pins.deferred = append(s.pins.deferred, p)
	return true
}

// unpin ends a snapshot's copy; the last one removes the files the
// checkpoints meanwhile retired.
func (s *Shard) unpin() {
	s.pins.Lock()
	s.pins.n--
	var rm []string
	if s.pins.n == 0 {
		rm, s.pins.deferred = s.pins.deferred, nil
	}
	s.pins.Unlock()
	for _, p := range rm {
		if err := s.fs.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("remove a segment file retired during a snapshot", "path", p, "err", err)
		}
	}
}

// RestoreSnapshot reads a shard archive (Snapshot with prefix "") from r
// into dir, which must not exist yet, and checks that the manifest and
// every file it names are there; a shard opened on dir then holds the
// image. On failure dir is removed. Refusals of the archive match
// snapshot.ErrInvalid.
func RestoreSnapshot(r io.Reader, dir string, opts snapshot.Options) (*snapshot.Manifest, error) {
	if _, err := vfs.Default.Stat(dir); err == nil {
		return nil, fmt.Errorf("restore shard snapshot: %s exists", dir)
	}
	m, err := snapshot.Extract(r, dir, opts)
	if err == nil && m.Kind != snapshot.KindShard {
		err = fmt.Errorf("restore shard snapshot: the archive holds a %s snapshot: %w", m.Kind, snapshot.ErrManifest)
	}
	if err == nil {
		err = CheckImage(vfs.Default, dir)
	}
	if err != nil {
		vfs.Default.RemoveAll(dir)
		return nil, err
	}
	return m, nil
}

// CheckImage checks that dir holds a shard image: a readable manifest and
// every file it names. A failure matches snapshot.ErrInvalid.
func CheckImage(fsys vfs.FS, dir string) error {
	m, err := readManifest(fsys, dir)
	if err != nil {
		return fmt.Errorf("shard image %s: %w (%w)", dir, snapshot.ErrManifest, err)
	}
	for _, f := range manifestFiles(m) {
		if _, err := fsys.Stat(filepath.Join(dir, segmentsDir, f)); err != nil {
			return fmt.Errorf("shard image %s: the manifest names %s: %w (%w)", dir, f, snapshot.ErrManifest, err)
		}
	}
	return nil
}
