package shard

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/vfs"
)

// On disk a shard is its WAL, a directory of segment files and a manifest
// naming the segments and the operation number they all cover, with the
// clocks of the operations it covers and the cutoff (clocks.go, tagged.go).
// Files are never rewritten in place: a flush writes new files, then the manifest
// (atomically), then removes the files the old manifest named. So a crash
// at any point leaves the manifest and the files it names: a consistent
// image as of its operation number, and the WAL replays the rest.
//
// A segment is a data file (segment.WriteCheckpoint: points, payload
// indexes, HNSW graphs) and, for a sealed segment, a deletes file listing
// the slots deleted since its data file was written, so that deleting from
// a large indexed segment does not rewrite it.

const (
	manifestFile  = "segments.json"
	segmentsDir   = "segments"
	legacyFile    = "points.ckpt" // one-store checkpoint of earlier versions
	deletesMagic  = "SHOALDL1"
	manifestVer   = 1
	clocksVer     = 2 // a manifest with clocks: versions before them must not read it
	maxDeletesLen = 1 << 32
)

type manifest struct {
	Version  int           `json:"version"`
	Applied  uint64        `json:"applied"` // operations [0, applied) are in the files
	NextID   uint64        `json:"next_segment_id"`
	NextFile uint64        `json:"next_file"` // file names are never reused
	Segments []manifestSeg `json:"segments"`
	// Clocks are those of the operations [0, applied) (clocks.go);
	// Cutoff the cutoff (tagged.go). A manifest with either is
	// of version 2.
	Clocks []manifestClock `json:"clocks,omitempty"`
	Cutoff []manifestClock `json:"cutoff,omitempty"`
}

// clockState is what a manifest holds of the shard's clocks.
type clockState struct {
	clocks clockMap // of the operations the manifest covers
	cutoff clockMap
}

type manifestSeg struct {
	ID         uint64            `json:"id"`
	Appendable bool              `json:"appendable"`
	Data       string            `json:"data"`
	Deletes    string            `json:"deletes,omitempty"`
	Vectors    map[string]string `json:"vectors,omitempty"` // on-disk columns: vector name -> file
	Sparse     map[string]string `json:"sparse,omitempty"`  // sealed: sparse vector name -> inverted index file
}

// readManifest reads and checks the manifest. It is written atomically, so
// anything unreadable in it is corruption, not a torn write.
func readManifest(fsys vfs.FS, dir string) (*manifest, error) {
	data, err := vfs.ReadFile(fsys, filepath.Join(dir, manifestFile))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, errkind.Corruptf("corrupt shard manifest: decode %s: %w", manifestFile, err)
	}
	switch {
	case m.Version != manifestVer && m.Version != clocksVer:
		return nil, fmt.Errorf("%s: unsupported version %d", manifestFile, m.Version)
	case m.Version == manifestVer && (len(m.Clocks) > 0 || len(m.Cutoff) > 0):
		return nil, errkind.Corruptf("corrupt shard manifest: %s: version %d with clocks", manifestFile, m.Version)
	}
	for _, s := range m.Segments {
		if !validFileName(s.Data) || (s.Deletes != "" && !validFileName(s.Deletes)) {
			return nil, errkind.Corruptf("corrupt shard manifest: %s: bad file name in segment %d", manifestFile, s.ID)
		}
		for _, f := range s.Vectors {
			if !validFileName(f) {
				return nil, errkind.Corruptf("corrupt shard manifest: %s: bad file name in segment %d", manifestFile, s.ID)
			}
		}
		for _, f := range s.Sparse {
			if !validFileName(f) {
				return nil, errkind.Corruptf("corrupt shard manifest: %s: bad file name in segment %d", manifestFile, s.ID)
			}
		}
	}
	return &m, nil
}

// validFileName accepts plain names inside the segments directory only.
func validFileName(n string) bool {
	return n != "" && n != "." && n != ".." && filepath.Base(n) == n && len(n) < 256
}

// loadSegments opens the segments the manifest names (or the legacy
// checkpoint, or nothing) and returns them with the operation number they
// cover, and the clocks it holds.
func loadSegments(fsys vfs.FS, dir string, specs map[string]segment.VectorSpec, sparse map[string]segment.SparseSpec, log *slog.Logger) (*holder, uint64, clockState, error) {
	h := &holder{specs: maps.Clone(specs), sparse: maps.Clone(sparse)}
	if h.specs == nil {
		h.specs = map[string]segment.VectorSpec{}
	}
	if h.sparse == nil {
		h.sparse = map[string]segment.SparseSpec{}
	}
	m, err := readManifest(fsys, dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		h, applied, err := loadLegacy(fsys, dir, h)
		return h, applied, clockState{clocks: clockMap{}, cutoff: clockMap{}}, err
	case err != nil:
		return nil, 0, clockState{}, err
	}
	var cs clockState
	if cs.clocks, err = decodeClocks(m.Clocks, "clocks"); err != nil {
		return nil, 0, clockState{}, err
	}
	if cs.cutoff, err = decodeClocks(m.Cutoff, "cutoff"); err != nil {
		return nil, 0, clockState{}, err
	}
	h.nextID, h.nextFile = m.NextID, m.NextFile
	for _, ms := range m.Segments {
		data, err := vfs.ReadFile(fsys, filepath.Join(dir, segmentsDir, ms.Data))
		if err != nil {
			return nil, 0, clockState{}, fmt.Errorf("read segment %d: %w", ms.ID, err)
		}
		st, _, err := segment.ReadCheckpointWith(data, fsys, func(name string) (string, error) {
			f, ok := ms.Vectors[name]
			if !ok {
				return "", errkind.Corruptf("corrupt shard manifest: it names no file for on-disk vector %q", name)
			}
			return filepath.Join(dir, segmentsDir, f), nil
		})
		if err != nil {
			return nil, 0, clockState{}, fmt.Errorf("load segment %d (%s): %w", ms.ID, ms.Data, err)
		}
		g := &seg{id: ms.ID, store: st, appendable: ms.Appendable, dataFile: ms.Data, deletesFile: ms.Deletes, vectorFiles: ms.Vectors, sparseFiles: ms.Sparse}
		for _, name := range st.SparseNames() {
			// The index files open with the vector's settings.
			st.SetSparseSpec(name, sparse[name])
		}
		if err := openSparseIndexes(fsys, dir, g, log); err != nil {
			return nil, 0, clockState{}, fmt.Errorf("load segment %d (%s): %w", ms.ID, ms.Data, err)
		}
		if ms.Deletes != "" {
			raw, err := vfs.ReadFile(fsys, filepath.Join(dir, segmentsDir, ms.Deletes))
			if err != nil {
				return nil, 0, clockState{}, fmt.Errorf("read deletes of segment %d: %w", ms.ID, err)
			}
			offs, err := decodeDeletes(raw)
			if err != nil {
				return nil, 0, clockState{}, fmt.Errorf("load deletes of segment %d (%s): %w", ms.ID, ms.Deletes, err)
			}
			st.DeleteOffsets(offs)
		}
		h.segs = append(h.segs, g)
		h.nextID = max(h.nextID, ms.ID)
	}
	// The segments' vectors are the shard's as of the manifest (schema.go).
	h.adoptSchema(specs, sparse)
	if err := removeUnlisted(fsys, dir, m); err != nil {
		return nil, 0, clockState{}, err
	}
	return h, m.Applied, cs, nil
}

func loadLegacy(fsys vfs.FS, dir string, h *holder) (*holder, uint64, error) {
	data, err := vfs.ReadFile(fsys, filepath.Join(dir, legacyFile))
	if errors.Is(err, fs.ErrNotExist) {
		h.newSegment(true)
		h.fresh = true
		return h, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read checkpoint: %w", err)
	}
	st, applied, err := segment.ReadCheckpoint(data)
	if err != nil {
		return nil, 0, fmt.Errorf("load checkpoint %s: %w", legacyFile, err)
	}
	for name, sp := range h.specs {
		st.AddColumn(name, sp)
	}
	for name, sp := range h.sparse {
		st.AddSparseColumn(name, sp)
	}
	h.nextID = 1
	h.segs = []*seg{{id: 1, store: st, appendable: true, dirty: true}}
	h.changed = true
	return h, applied, nil
}

// removeUnlisted deletes segment files the manifest does not name: the
// leftovers of a flush or an optimization cut short by a crash.
func removeUnlisted(fsys vfs.FS, dir string, m *manifest) error {
	keep := map[string]bool{}
	for _, s := range m.Segments {
		keep[s.Data] = true
		keep[s.Deletes] = true
		for _, f := range s.Vectors {
			keep[f] = true
		}
		for _, f := range s.Sparse {
			keep[f] = true
		}
	}
	names, err := fsys.ReadDir(filepath.Join(dir, segmentsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list segments: %w", err)
	}
	for _, name := range names {
		if !keep[name] {
			if err := fsys.RemoveAll(filepath.Join(dir, segmentsDir, name)); err != nil {
				return fmt.Errorf("remove stale segment file: %w", err)
			}
		}
	}
	return nil
}

// writeFunc writes a file atomically (vfs.WriteFileAtomic on the shard's
// FS; tests substitute one that fails as a full disk does).
type writeFunc func(path string, write func(io.Writer) error) error

// writeSegmentFile writes st as a new data file of segment id and returns
// its name.
func writeSegmentFile(wf writeFunc, dir string, id, gen uint64, st *segment.Store, applied uint64) (string, error) {
	name := fmt.Sprintf("%d-%d.seg", id, gen)
	err := wf(filepath.Join(dir, segmentsDir, name), func(w io.Writer) error {
		return st.WriteCheckpoint(w, applied)
	})
	if err != nil {
		return "", fmt.Errorf("write segment %d: %w", id, err)
	}
	return name, nil
}

func writeDeletesFile(wf writeFunc, dir string, id, gen uint64, offs []uint32) (string, error) {
	name := fmt.Sprintf("%d-%d.del", id, gen)
	err := wf(filepath.Join(dir, segmentsDir, name), func(w io.Writer) error {
		_, err := w.Write(encodeDeletes(offs))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("write deletes of segment %d: %w", id, err)
	}
	return name, nil
}

func writeManifest(wf writeFunc, dir string, m *manifest) error {
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	return wf(filepath.Join(dir, manifestFile), func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeDeletes: magic, count, ascending offsets (u32 LE), CRC32C of all
// that.
func encodeDeletes(offs []uint32) []byte {
	b := make([]byte, 0, len(deletesMagic)+4+4*len(offs)+4)
	b = append(b, deletesMagic...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(offs)))
	for _, o := range offs {
		b = binary.LittleEndian.AppendUint32(b, o)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// decodeDeletes decodes a deletes file; damage matches errkind.ErrCorrupt.
func decodeDeletes(b []byte) ([]uint32, error) {
	head := len(deletesMagic) + 4
	if len(b) < head+4 || string(b[:len(deletesMagic)]) != deletesMagic {
		return nil, errkind.Corruptf("corrupt deletes file: bad header")
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, errkind.Corruptf("corrupt deletes file: checksum mismatch")
	}
	n := uint64(binary.LittleEndian.Uint32(b[len(deletesMagic):]))
	if n >= maxDeletesLen || uint64(len(body)-head) != 4*n {
		return nil, errkind.Corruptf("corrupt deletes file: length %d does not match %d offsets", len(body)-head, n)
	}
	offs := make([]uint32, n)
	for i := range offs {
		offs[i] = binary.LittleEndian.Uint32(body[head+4*i:])
	}
	if !slices.IsSorted(offs) {
		return nil, errkind.Corruptf("corrupt deletes file: offsets out of order")
	}
	return offs, nil
}

// writeVectorFiles moves the on-disk columns of a freshly built segment to
// files of their own and maps them; it returns vector name -> file. On
// error it removes the files it wrote.
func writeVectorFiles(fsys vfs.FS, wf writeFunc, dir string, id, gen uint64, st *segment.Store, specs map[string]segment.VectorSpec) (_ map[string]string, err error) {
	out := map[string]string{}
	names := make([]string, 0, len(specs))
	for name, sp := range specs {
		if sp.OnDisk {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	defer func() {
		if err != nil {
			removeSegmentFiles(fsys, dir, slices.Collect(maps.Values(out)))
		}
	}()
	for i, name := range names {
		f := fmt.Sprintf("%d-%d.%d.vec", id, gen, i)
		path := filepath.Join(dir, segmentsDir, f)
		err := wf(path, func(w io.Writer) error { return st.WriteColumn(name, w) })
		if err != nil {
			return nil, fmt.Errorf("write vectors %q of segment %d: %w", name, id, err)
		}
		out[name] = f
		if err := st.MapColumn(fsys, name, path); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// removeSegmentFiles removes files of the segments directory that no
// manifest names (those of a failed flush or optimization), so that a full
// disk gets its space back. A file that stays is removed by the next Open.
func removeSegmentFiles(fsys vfs.FS, dir string, files []string) {
	for _, f := range files {
		if f != "" {
			fsys.Remove(filepath.Join(dir, segmentsDir, f))
		}
	}
}

// openSparseIndexes opens the inverted index files of a sealed segment.
// A file that fails its checks is not lost data (the vectors are in the
// segment): the index is rebuilt in memory, with a warning, and the next
// optimization of the segment writes a sound file. A file the manifest
// names but that cannot be read fails the open, as a vector file does.
func openSparseIndexes(fsys vfs.FS, dir string, g *seg, log *slog.Logger) error {
	for _, name := range slices.Sorted(maps.Keys(g.sparseFiles)) {
		if !g.store.HasSparse(name) {
			continue // a sparse vector the collection no longer has
		}
		err := g.store.OpenSparseIndex(fsys, name, filepath.Join(dir, segmentsDir, g.sparseFiles[name]))
		switch {
		case errors.Is(err, errkind.ErrCorrupt):
			log.Warn("sparse index unreadable, rebuilt from the vectors", "dir", dir, "segment", g.id, "vector", name, "err", err)
			g.store.BuildSparseIndex(name)
		case err != nil:
			return err
		}
	}
	return nil
}

// writeSparseFiles writes the inverted indexes of a freshly built sealed
// segment to files of their own and, for those kept on disk, serves them
// from the files mapped; it returns sparse vector name -> file. On error
// it removes the files it wrote.
func writeSparseFiles(fsys vfs.FS, wf writeFunc, dir string, id, gen uint64, st *segment.Store) (_ map[string]string, err error) {
	out := map[string]string{}
	defer func() {
		if err != nil {
			removeSegmentFiles(fsys, dir, slices.Collect(maps.Values(out)))
		}
	}()
	for i, name := range st.SparseIndexed() {
		f := fmt.Sprintf("%d-%d.%d.spx", id, gen, i)
		path := filepath.Join(dir, segmentsDir, f)
		err := wf(path, func(w io.Writer) error { return st.WriteSparseIndex(name, w) })
		if err != nil {
			return nil, fmt.Errorf("write sparse index %q of segment %d: %w", name, id, err)
		}
		out[name] = f
		if err := st.MapSparseIndex(fsys, name, path); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
