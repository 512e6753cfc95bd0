package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/snapshot"
	"github.com/shoaldb/shoal/internal/vfs"
)

// Recovery (Qdrant's recover_from_snapshot): the archive is fetched to a
// local file (a file:// location inside the snapshots directory is used
// where it is; an http(s):// one is downloaded into it), its checksum
// checked when one is given, then extracted into a new directory of the
// storage and checked whole (collection.ExtractSnapshot) before anything
// changes. Only then is the collection swapped: the old one is closed and
// moved aside (.replaced-*, with its name), the new one moved in and
// opened; should that open fail, the old one comes back. A crash between
// the two renames is repaired by the next Open (recoverReplaced). A
// refused archive leaves the collection as it was.
//
// On a cluster peer the collection is not swapped whole: its shards are
// restored one by one and the replicas settled through consensus
// (snapshots_cluster.go).

// RecoverRequest is Qdrant's SnapshotRecover.
type RecoverRequest struct {
	Location string
	Priority string // "", no_sync, snapshot, replica
	Checksum string
	// APIKey, when set, is sent as the api-key header to an http(s)
	// location (another Qdrant or Shoal serving the snapshot).
	APIKey string
}

// snapshotClient fetches http(s) locations: no overall timeout (an
// archive may be large), but a peer that does not answer is given up.
var snapshotClient = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	ResponseHeaderTimeout: time.Minute,
	TLSHandshakeTimeout:   10 * time.Second,
	IdleConnTimeout:       90 * time.Second,
}}

// MaxSnapshotDownload bounds the bytes an http(s) location may send.
const MaxSnapshotDownload = 1 << 40

// errSnapshotCluster refuses a start-up recovery (--snapshot) on a
// cluster peer: consensus, which must create the collection, does not run
// yet.
var errSnapshotCluster = point.Errorf(point.KindBadRequest, "Recovery from a snapshot at start-up is not supported on a cluster peer: recover the snapshot through PUT /collections/{name}/snapshots/recover or POST /collections/{name}/snapshots/upload")

func checkPriority(p string) error {
	switch p {
	case "", "no_sync", "snapshot", "replica":
		return nil
	}
	return point.Errorf(point.KindBadRequest, "unknown variant `%s`, expected one of `no_sync`, `snapshot`, `replica`", p)
}

// RecoverSnapshot replaces (or creates) the collection name with the
// snapshot at req.Location.
func (n *Node) RecoverSnapshot(ctx context.Context, name string, req RecoverRequest) error {
	if err := n.recoverable(name, req.Priority); err != nil {
		return err
	}
	path, cleanup, err := n.fetchSnapshot(ctx, req.Location, req.APIKey)
	if err != nil {
		return err
	}
	defer cleanup()
	return n.recoverFile(ctx, name, path, req.Checksum, req.Priority)
}

// RecoverUploadedSnapshot replaces (or creates) the collection name with
// the snapshot read from r (an upload, bounded by the caller).
func (n *Node) RecoverUploadedSnapshot(ctx context.Context, name string, r io.Reader, checksum, priority string) error {
	if err := n.recoverable(name, priority); err != nil {
		return err
	}
	path, err := n.SaveUpload(ctx, r)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	return n.recoverFile(ctx, name, path, checksum, priority)
}

// SaveUpload copies an uploaded archive (at most MaxSnapshotDownload
// bytes) to a temporary file, for RecoverSnapshotFile; the caller removes
// it.
func (n *Node) SaveUpload(ctx context.Context, r io.Reader) (string, error) {
	return n.saveUpload(ctx, r, MaxSnapshotDownload)
}

// RecoverSnapshotFile replaces (or creates) the collection name with the
// archive at path (a SaveUpload file).
func (n *Node) RecoverSnapshotFile(name, path, checksum, priority string) error {
	if err := n.recoverable(name, priority); err != nil {
		return err
	}
	return n.recoverFile(context.Background(), name, path, checksum, priority)
}

// recoverFile recovers the collection from the archive at path: swapped
// whole on a standalone node, restored shard by shard on a cluster peer.
// Once the archive is here, the recovery runs to its end whatever ctx
// says (a client that leaves does not cut it half way), as Qdrant's.
func (n *Node) recoverFile(ctx context.Context, name, path, checksum, priority string) error {
	if n.cl != nil {
		return n.recoverClusterFromFile(context.WithoutCancel(ctx), name, path, checksum, priority)
	}
	return n.recoverFromFile(name, path, checksum)
}

func (n *Node) recoverable(name, priority string) error {
	if err := ValidateCollectionName(name); err != nil {
		return err
	}
	if err := n.nameTaken(name); err != nil {
		return err
	}
	return checkPriority(priority)
}

// fetchSnapshot returns the local file of location and what removes it
// when it was downloaded.
func (n *Node) fetchSnapshot(ctx context.Context, location, apiKey string) (string, func(), error) {
	u, err := url.Parse(location)
	if err != nil {
		return "", nil, point.Errorf(point.KindBadRequest, "Invalid snapshot location %q: %v", location, err)
	}
	switch u.Scheme {
	case "file":
		p, err := n.localSnapshot(u.Path)
		return p, func() {}, err
	case "http", "https":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, location, nil)
		if err != nil {
			return "", nil, point.Errorf(point.KindBadRequest, "Invalid snapshot location %q: %v", location, err)
		}
		if apiKey != "" {
			req.Header.Set("api-key", apiKey)
		}
		resp, err := snapshotClient.Do(req)
		if err != nil {
			return "", nil, point.Errorf(point.KindBadRequest, "Failed to download snapshot from %s: %v", location, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return "", nil, point.Errorf(point.KindBadRequest, "Failed to download snapshot from %s: status %s", location, resp.Status)
		}
		p, err := n.saveUpload(ctx, resp.Body, MaxSnapshotDownload)
		if err != nil {
			return "", nil, err
		}
		return p, func() { os.Remove(p) }, nil
	}
	return "", nil, point.Errorf(point.KindBadRequest, "Invalid snapshot location %q: the scheme must be file, http or https", location)
}

// localSnapshot checks that a file:// path lies inside the snapshots
// directory (links resolved), as a client must not read arbitrary files of
// the server.
func (n *Node) localSnapshot(p string) (string, error) {
	root, err := filepath.Abs(n.snapshotsDir())
	if err == nil {
		root, err = filepath.EvalSymlinks(root)
	}
	if err != nil {
		return "", point.Errorf(point.KindNotFound, "Snapshot directory: %s", n.snapshotsDir())
	}
	abs, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", point.Errorf(point.KindNotFound, "Snapshot %s", p)
	}
	if rel, err := filepath.Rel(root, abs); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", point.Errorf(point.KindBadRequest, "Snapshot file %s must be inside the snapshots directory %s", p, root)
	}
	return abs, nil
}

// uploadPattern names the temporary files of uploaded and downloaded
// archives in snapshots_path/tmp.
const uploadPattern = "upload-*.snapshot"

// removeUploadLeftovers removes the temporary archives a process that
// died mid-recovery left (every path of a running one removes its own).
func (n *Node) removeUploadLeftovers() {
	left, _ := filepath.Glob(filepath.Join(n.snapshotsDir(), "tmp", uploadPattern))
	for _, p := range left {
		n.log.Warn("removing a leftover uploaded snapshot", "path", p)
		if err := os.Remove(p); err != nil {
			n.log.Warn("removing a leftover uploaded snapshot", "path", p, "err", err)
		}
	}
}

// saveUpload copies r (at most limit bytes) to a temporary file of the
// snapshots directory.
func (n *Node) saveUpload(ctx context.Context, r io.Reader, limit int64) (string, error) {
	dir := filepath.Join(n.snapshotsDir(), "tmp")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("save snapshot: %w", err)
	}
	f, err := os.CreateTemp(dir, uploadPattern)
	if err != nil {
		return "", fmt.Errorf("save snapshot: %w", err)
	}
	m, err := io.Copy(f, io.LimitReader(ctxReader{ctx, r}, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && m > limit {
		err = point.Errorf(point.KindBadRequest, "Snapshot larger than %d bytes", limit)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("save snapshot: %w", err)
	}
	return f.Name(), nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// progressReader logs the bytes of an archive read, every 256 MiB.
type progressReader struct {
	r          io.Reader
	done, last int64
	total      int64
	log        func(done, total int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	k, err := p.r.Read(b)
	p.done += int64(k)
	if p.done-p.last >= 256<<20 {
		p.last = p.done
		p.log(p.done, p.total)
	}
	return k, err
}

// stagedSnapshot is a collection snapshot extracted and checked in a
// staging directory under the collections directory (dir); remove deletes
// what is left of it.
type stagedSnapshot struct {
	start  time.Time
	size   int64
	dir    string
	cfg    *collection.Config
	meta   collection.SnapshotMeta
	remove func()
}

// stageCollectionSnapshot extracts the archive at path into a staging
// directory, checking all of it, and logs msg (with attrs) and the
// progress. A refused archive is a bad request ("Invalid snapshot: ...").
func (n *Node) stageCollectionSnapshot(name, path, msg string, attrs ...any) (stagedSnapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return stagedSnapshot{}, fmt.Errorf("recover snapshot: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return stagedSnapshot{}, fmt.Errorf("recover snapshot: %w", err)
	}
	st := stagedSnapshot{start: time.Now(), size: fi.Size()}
	n.log.Info(msg, append([]any{"collection", name, "snapshot", filepath.Base(path), "bytes_total", fi.Size()}, attrs...)...)
	pr := &progressReader{r: f, total: fi.Size(), log: func(done, total int64) {
		n.log.Info("snapshot recovery progress", "collection", name, "bytes_done", done, "bytes_total", total)
	}}
	staging, err := vfs.MkdirTemp(vfs.Default, n.collectionsDir(), ".restoring-")
	if err != nil {
		return stagedSnapshot{}, fmt.Errorf("recover snapshot: %w", err)
	}
	st.remove = func() { os.RemoveAll(staging) }
	st.dir = filepath.Join(staging, "c")
	st.cfg, st.meta, err = collection.ExtractSnapshot(pr, st.dir, snapshot.Options{})
	if err != nil {
		st.remove()
		if errors.Is(err, snapshot.ErrInvalid) {
			return stagedSnapshot{}, &point.Error{Kind: point.KindBadRequest, Description: fmt.Sprintf("Invalid snapshot: %v", err), Err: err}
		}
		return stagedSnapshot{}, fmt.Errorf("recover snapshot: %w", err)
	}
	return st, nil
}

// recoverFromFile checks the archive at path (its checksum when given),
// extracts it and swaps the collection name for it.
func (n *Node) recoverFromFile(name, path, checksum string) error {
	if err := checkFileChecksum(path, checksum); err != nil {
		return err
	}
	st, err := n.stageCollectionSnapshot(name, path, "recovering collection from snapshot")
	if err != nil {
		return err
	}
	defer st.remove()
	start, fi, dir, cfg, meta := st.start, st.size, st.dir, st.cfg, st.meta
	if err := n.installCollection(name, dir, cfg); err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	n.log.Info("collection recovered from snapshot", "collection", name, "points", meta.Points(), "bytes", fi,
		"seconds", secs, "mb_per_sec", float64(fi)/(1<<20)/max(secs, 1e-9))
	return nil
}

// installCollection swaps the collection name for the checked image in
// dir (holding config.json), or creates it.
func (n *Node) installCollection(name, dir string, cfg *collection.Config) error {
	created, err := n.swapCollection(name, dir, cfg)
	if err != nil || !created {
		return err
	}
	n.local.mu.Lock()
	defer n.local.mu.Unlock()
	_, err = n.local.apply(localCreate(name))
	return err
}

func (n *Node) swapCollection(name, dir string, cfg *collection.Config) (created bool, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.mu.closed {
		return false, errors.New("node is closed")
	}
	final := filepath.Join(n.collectionsDir(), name)
	old, existed := n.mu.collections[name]
	var aside string
	if existed {
		var oldCfg *collection.Config
		if oldCfg, err = old.Config(); err != nil {
			return false, err
		}
		if aside, err = vfs.MkdirTemp(n.fs, n.collectionsDir(), ".replaced-"); err != nil {
			return false, fmt.Errorf("recover snapshot: %w", err)
		}
		if err := vfs.WriteFileAtomic(n.fs, filepath.Join(aside, "name"), func(w io.Writer) error {
			_, err := io.WriteString(w, name)
			return err
		}); err != nil {
			n.fs.RemoveAll(aside)
			return false, fmt.Errorf("recover snapshot: %w", err)
		}
		if err := old.Close(); err != nil {
			n.log.Warn("closing the collection a snapshot replaces", "collection", name, "err", err)
		}
		delete(n.mu.collections, name)
		if err := n.fs.Rename(final, filepath.Join(aside, "c")); err != nil {
			n.reopenLocked(name, oldCfg)
			n.fs.RemoveAll(aside)
			return false, fmt.Errorf("recover snapshot: %w", err)
		}
		defer func() {
			if err != nil {
				// Put the old collection back.
				n.fs.RemoveAll(final)
				if rerr := n.fs.Rename(filepath.Join(aside, "c"), final); rerr != nil {
					n.log.Error("restoring the collection a failed recovery replaced; the next start restores it", "collection", name, "err", rerr)
					return
				}
				n.fs.RemoveAll(aside)
				n.reopenLocked(name, oldCfg)
			}
		}()
	}
	if err := n.fs.Rename(dir, final); err != nil {
		return false, fmt.Errorf("recover snapshot: %w", err)
	}
	if err := n.fs.SyncDir(n.collectionsDir()); err != nil {
		return false, fmt.Errorf("recover snapshot: %w", err)
	}
	c, err := collection.Open(n.fs, final, name, cfg, n.log, collection.WithClock(n.opts.Clock))
	if err != nil {
		return false, fmt.Errorf("recover snapshot: open the recovered collection: %w", err)
	}
	n.observe(c)
	n.mu.collections[name] = c
	if aside != "" {
		if err := n.fs.RemoveAll(aside); err != nil {
			n.log.Warn("removing the replaced collection", "collection", name, "err", err)
		}
	}
	n.issues.CheckCollections(n.sizesLocked())
	return !existed, nil
}

// reopenLocked opens the collection name again after a failed swap.
func (n *Node) reopenLocked(name string, cfg *collection.Config) {
	c, err := collection.Open(n.fs, filepath.Join(n.collectionsDir(), name), name, cfg, n.log, collection.WithClock(n.opts.Clock))
	if err != nil {
		n.log.Error("reopening a collection after a failed recovery", "collection", name, "err", err)
		return
	}
	n.observe(c)
	n.mu.collections[name] = c
}

// recoverReplaced repairs a swap cut short by a crash: a collection moved
// aside (.replaced-*) whose name has no directory any more goes back;
// otherwise the recovered one is in place and the old one is dropped by
// Open's removal of leftovers.
func (n *Node) recoverReplaced() error {
	dir := n.collectionsDir()
	names, err := n.fs.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read storage dir: %w", err)
	}
	for _, e := range names {
		if !strings.HasPrefix(e, ".replaced-") {
			continue
		}
		raw, err := vfs.ReadFile(n.fs, filepath.Join(dir, e, "name"))
		if err != nil {
			continue
		}
		name := string(raw)
		if ValidateCollectionName(name) != nil {
			continue
		}
		if _, err := n.fs.Stat(filepath.Join(dir, name)); err == nil {
			continue
		}
		n.log.Warn("restoring a collection whose recovery from a snapshot was cut short", "collection", name)
		if err := n.fs.Rename(filepath.Join(dir, e, "c"), filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("restore collection %q: %w", name, err)
		}
	}
	return nil
}

// RestoreSnapshotAtStart restores the collection snapshot at path (any
// local file: the operator names it) as collection name, before the node
// serves (--snapshot PATH:NAME). An existing collection is replaced only
// with force (--force-snapshot), as Qdrant's start-up recovery.
func (n *Node) RestoreSnapshotAtStart(name, path string, force bool) error {
	if n.cl != nil {
		return errSnapshotCluster
	}
	if err := ValidateCollectionName(name); err != nil {
		return err
	}
	n.mu.RLock()
	_, exists := n.mu.collections[name]
	n.mu.RUnlock()
	if exists && !force {
		return fmt.Errorf("collection %s already exists; use --force-snapshot to overwrite it", name)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	return n.recoverFromFile(name, path, "")
}
