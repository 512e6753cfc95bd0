package node

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/snapshot"
)

// Snapshots (Qdrant's layout): collection snapshots are files
// <snapshots_path>/<collection>/<collection>-<peer id>-<time>.snapshot,
// each with <name>.checksum beside it holding its SHA-256 (hex). They are
// archives of package snapshot (kind collection: collection.Snapshot).
// They are written to a temporary file of the same directory, hashed while
// written, fsynced, and renamed into place after their checksum file, so
// a listed snapshot is whole. Snapshot files live on the operating
// system's file system whatever Options.FS is.

// SnapshotDescription is Qdrant's description of a snapshot file.
type SnapshotDescription struct {
	Name         string  `json:"name"`
	CreationTime *string `json:"creation_time"`
	Size         int64   `json:"size"`
	Checksum     *string `json:"checksum,omitempty"`
}

// snapshotTimeFormat is Qdrant's creation_time (a partial date-time, UTC).
const snapshotTimeFormat = "2006-01-02T15:04:05"

// snapshotsDir is storage.snapshots_path.
func (n *Node) snapshotsDir() string {
	if n.opts.SnapshotsPath != "" {
		return n.opts.SnapshotsPath
	}
	return filepath.Join(n.opts.StoragePath, "snapshots")
}

func (n *Node) collectionSnapshotsDir(name string) string {
	return filepath.Join(n.snapshotsDir(), name)
}

// CreateSnapshot writes a snapshot of the collection's local shards
// (aliases resolve to their collection) and describes it.
func (n *Node) CreateSnapshot(ctx context.Context, name string) (*SnapshotDescription, error) {
	c, err := n.Collection(name)
	if err != nil {
		return nil, err
	}
	name = c.Name()
	file := fmt.Sprintf("%s-%d-%s.snapshot", name, n.peerID(), time.Now().UTC().Format("2006-01-02-15-04-05"))
	dir := n.collectionSnapshotsDir(name)
	return n.writeSnapshot(dir, file, snapshot.KindCollection, "collection", name, func(w *snapshot.Writer) (any, error) {
		return c.Snapshot(ctx, w)
	})
}

// writeSnapshot writes an archive of kind to dir/file through fill, with
// its checksum file, logging its progress.
func (n *Node) writeSnapshot(dir, file, kind, what, name string, fill func(*snapshot.Writer) (any, error)) (*SnapshotDescription, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create snapshot dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*.snapshot")
	if err != nil {
		return nil, fmt.Errorf("create snapshot file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	start := time.Now()
	n.log.Info("creating snapshot", what, name, "snapshot", file)
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, h), 1<<20)
	var lastLog int64
	w := snapshot.NewWriter(bw, kind, func(done int64) {
		if done-lastLog >= 256<<20 {
			lastLog = done
			n.log.Info("snapshot progress", what, name, "snapshot", file, "bytes_done", done)
		}
	})
	meta, err := fill(w)
	if err == nil {
		_, err = w.Close(meta)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("create snapshot %s: %w", file, err)
	}
	final := filepath.Join(dir, file)
	sum := hex.EncodeToString(h.Sum(nil))
	n.snapMu.Lock()
	if err := snapshot.WriteChecksum(final, sum); err != nil {
		n.snapMu.Unlock()
		return nil, fmt.Errorf("write snapshot checksum: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		n.snapMu.Unlock()
		return nil, fmt.Errorf("create snapshot %s: %w", file, err)
	}
	d, err := describeSnapshot(final)
	n.snapMu.Unlock()
	if err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	n.log.Info("snapshot created", what, name, "snapshot", file, "bytes", d.Size, "seconds", secs, "mb_per_sec", float64(d.Size)/(1<<20)/max(secs, 1e-9))
	return d, nil
}

func describeSnapshot(path string) (*SnapshotDescription, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	t := fi.ModTime().UTC().Format(snapshotTimeFormat)
	d := &SnapshotDescription{Name: fi.Name(), CreationTime: &t, Size: fi.Size()}
	if sum, err := snapshot.ReadChecksum(path); err == nil {
		d.Checksum = &sum
	}
	return d, nil
}

// listSnapshots describes the *.snapshot files of dir, by name.
func listSnapshots(dir string) ([]SnapshotDescription, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []SnapshotDescription{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	out := []SnapshotDescription{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".snapshot") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		d, err := describeSnapshot(filepath.Join(dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b SnapshotDescription) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// ListSnapshots describes the collection's snapshots.
func (n *Node) ListSnapshots(name string) ([]SnapshotDescription, error) {
	c, err := n.Collection(name)
	if err != nil {
		return nil, err
	}
	return listSnapshots(n.collectionSnapshotsDir(c.Name()))
}

// snapshotPath is the file of snapshot file in dir: a plain name of an
// existing regular file there, else Qdrant's not found.
func snapshotPath(dir, file string) (string, error) {
	if file == "" || file == "." || file == ".." || strings.ContainsAny(file, "/\\\x00") || strings.HasPrefix(file, ".") {
		return "", point.Errorf(point.KindNotFound, "Snapshot %s", file)
	}
	p := filepath.Join(dir, file)
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return "", point.Errorf(point.KindNotFound, "Snapshot %s", file)
	}
	return p, nil
}

// SnapshotFile is the path of a collection's snapshot, for a download.
func (n *Node) SnapshotFile(name, file string) (string, error) {
	c, err := n.Collection(name)
	if err != nil {
		return "", err
	}
	return snapshotPath(n.collectionSnapshotsDir(c.Name()), file)
}

// DeleteSnapshot removes a collection's snapshot and its checksum file.
func (n *Node) DeleteSnapshot(name, file string) error {
	p, err := n.SnapshotFile(name, file)
	if err != nil {
		return err
	}
	return removeSnapshot(p)
}

func removeSnapshot(p string) error {
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("delete snapshot: %w", err)
	}
	if err := os.Remove(p + snapshot.ChecksumExt); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete snapshot checksum: %w", err)
	}
	return nil
}
