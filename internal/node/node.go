package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/issues"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/quota"
	"github.com/shoaldb/shoal/internal/vfs"
)

const configFile = "config.json"

// Options configure a node.
type Options struct {
	StoragePath string
	Defaults    collection.Defaults
	Logger      *slog.Logger
	// FS holds every file of the node (collection configs, shards, the
	// local metadata); nil means vfs.Default.
	FS vfs.FS
	// Clock is the time of the collections' strict mode rate limits; nil
	// means time.Now. Tests set it to move time instead of waiting.
	Clock func() time.Time
	// SlowQuery is how long a read must take for its filters to be
	// checked for unindexed fields (Qdrant's service.slow_query_secs);
	// 0 means DefaultSlowQuery.
	SlowQuery time.Duration
	// CollectionDefaults are storage.collection: the shard_number,
	// replication_factor and write_consistency_factor of a collection
	// created without them.
	CollectionDefaults CollectionDefaults
	// SnapshotsPath is storage.snapshots_path, where snapshots are kept
	// (snapshots.go); "" means <StoragePath>/snapshots.
	SnapshotsPath string
}

// CollectionDefaults are Qdrant's storage.collection, as cmd/shoal reads
// them from the configuration (node does not import internal/config); 0
// is unset.
type CollectionDefaults struct {
	// ShardNumber wins over ShardNumberPerNode (times the number of
	// peers); with neither, a collection has one shard per peer.
	ShardNumber, ShardNumberPerNode int
	// ReplicationFactor and WriteConsistencyFactor default to 1.
	ReplicationFactor, WriteConsistencyFactor int
}

// shardNumber is the shard_number of a collection created without one on
// peers peers (1 standalone): Qdrant's get_shard_number.
func (d CollectionDefaults) shardNumber(peers int) int {
	peers = max(peers, 1)
	switch {
	case d.ShardNumber > 0:
		return d.ShardNumber
	case d.ShardNumberPerNode > 0:
		return d.ShardNumberPerNode * peers
	}
	return peers
}

// Node holds this peer's collections.
type Node struct {
	opts Options
	log  *slog.Logger
	fs   vfs.FS
	mu   struct {
		sync.RWMutex
		collections map[string]*collection.Collection
		closed      bool
	}
	cl     *clusterMode // nil when standalone
	local  *localMeta   // aliases when standalone
	issues *issues.Dashboard
	quota  *quota.Guard
	// cfgMu serializes the read-modify-write of collection configurations
	// (changeConfig); taken before mu.
	cfgMu sync.Mutex
	// snapMu serializes the step that puts a snapshot file and its
	// checksum in place (snapshots.go), so that two snapshots given the
	// same name in the same second leave a file and a checksum that match.
	snapMu sync.Mutex
}

// Open loads every collection found under the storage path.
func Open(opts Options) (*Node, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.FS = vfs.OrDefault(opts.FS)
	n := &Node{opts: opts, log: opts.Logger, fs: opts.FS, issues: issues.NewDashboard(), quota: newQuotaGuard(opts.StoragePath)}
	n.mu.collections = map[string]*collection.Collection{}
	dir := n.collectionsDir()
	if err := vfs.EnsureDir(n.fs, dir, 0o755); err != nil {
		return nil, fmt.Errorf("create storage dir: %w", err)
	}
	if err := n.recoverReplaced(); err != nil {
		return nil, err
	}
	n.removeUploadLeftovers()
	names, err := n.fs.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read storage dir: %w", err)
	}
	for _, name := range names {
		path := filepath.Join(dir, name)
		if fi, err := n.fs.Stat(path); err != nil {
			return nil, fmt.Errorf("read storage dir: %w", err)
		} else if !fi.IsDir() {
			continue
		}
		if strings.HasPrefix(name, ".") { // an interrupted create or delete
			n.log.Warn("removing leftover collection directory", "path", path)
			if err := n.fs.RemoveAll(path); err != nil {
				return nil, fmt.Errorf("remove leftover %s: %w", path, err)
			}
			continue
		}
		cfg, err := readConfig(n.fs, filepath.Join(path, configFile))
		if err != nil {
			n.Close()
			return nil, fmt.Errorf("load collection %q: %w", name, err)
		}
		c, err := collection.Open(n.fs, path, name, cfg, n.log, collection.WithClock(n.opts.Clock))
		if err != nil {
			n.Close()
			return nil, err
		}
		n.observe(c)
		n.mu.collections[name] = c
		n.log.Info("loaded collection", "collection", name)
	}
	if err := n.openLocalMeta(); err != nil {
		n.Close()
		return nil, err
	}
	n.checkCollections()
	return n, nil
}

func (n *Node) collectionsDir() string { return filepath.Join(n.opts.StoragePath, "collections") }

func readConfig(fsys vfs.FS, path string) (*collection.Config, error) {
	b, err := vfs.ReadFile(fsys, path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var cfg collection.Config
	if err := point.DecodeJSON(b, &cfg); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return &cfg, nil
}

func writeConfig(fsys vfs.FS, dir string, cfg *collection.Config) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("encode collection config: %w", err)
	}
	return vfs.WriteFileAtomic(fsys, filepath.Join(dir, configFile), func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// ValidateCollectionName applies Qdrant's rules for collection names, and
// refuses names that would escape the storage directory.
func ValidateCollectionName(name string) error {
	if name == "" || len(name) > 255 {
		return &collection.ValidationError{Fields: []string{"name: length must be between 1 and 255"}}
	}
	if name == "." || name == ".." || strings.HasPrefix(name, ".") {
		return &collection.ValidationError{Fields: []string{fmt.Sprintf("name: collection name cannot start with \".\"")}}
	}
	for _, c := range []string{"<", ">", ":", "\"", "/", "\\", "|", "?", "*", "\x00", "\x1f"} {
		if strings.Contains(name, c) {
			return &collection.ValidationError{Fields: []string{fmt.Sprintf("name: collection name cannot contain %q char", c)}}
		}
	}
	return nil
}

// Collection returns the named collection or Qdrant's not-found error.
func (n *Node) Collection(name string) (*collection.Collection, error) {
	n.mu.RLock()
	c, ok := n.mu.collections[name]
	n.mu.RUnlock()
	if ok {
		return c, nil
	}
	if target := n.resolve(name); target != name {
		n.mu.RLock()
		c, ok = n.mu.collections[target]
		n.mu.RUnlock()
		if ok {
			return c, nil
		}
	}
	return nil, point.CollectionNotFound(name)
}

// Collections lists collection names in sorted order.
func (n *Node) Collections() []string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]string, 0, len(n.mu.collections))
	for name := range n.mu.collections {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// CreateCollection creates a collection from a create request: here, or,
// in cluster mode, on every peer through consensus (answered once applied
// on this peer).
func (n *Node) CreateCollection(ctx context.Context, name string, req *collection.CreateRequest) error {
	if err := ValidateCollectionName(name); err != nil {
		return err
	}
	cfg, err := req.Build(n.opts.Defaults)
	if err != nil {
		return err
	}
	method, err := shardingMethod(req.ShardingMethod)
	if err != nil {
		return err
	}
	if err := n.nameTaken(name); err != nil {
		return err
	}
	peers := 1
	if n.cl != nil {
		peers = n.cl.peerCount()
	}
	f := n.createFactors(req, method, peers)
	cfg.Params.ShardNumber, cfg.Params.ReplicationFactor, cfg.Params.WriteConsistencyFactor = f.shards, f.rf, f.wcf
	if n.cl != nil {
		given := "" // the sharding_method the request gave, "" none
		if req.ShardingMethod != nil {
			given = string(method)
		}
		return n.cl.createCollection(ctx, name, cfg, f.shards, f.rf, f.wcf, given)
	}
	if err := n.createLocal(name, cfg); err != nil {
		return err
	}
	n.local.mu.Lock()
	defer n.local.mu.Unlock()
	_, err = n.local.apply(localCreate(name))
	return err
}

// shardingMethod reads a create request's sharding_method: auto (the
// default) or custom, serde's refusal of anything else.
func shardingMethod(m *string) (cluster.ShardingMethod, error) {
	if m == nil {
		return cluster.ShardingAuto, nil
	}
	switch v := cluster.ShardingMethod(*m); v {
	case cluster.ShardingAuto, cluster.ShardingCustom:
		return v, nil
	}
	return "", &collection.FormatError{Msg: fmt.Sprintf("sharding_method: unknown variant `%s`, expected `auto` or `custom`", *m)}
}

// factors are a new collection's shard_number, replication_factor and
// write_consistency_factor.
type factors struct{ shards, rf, wcf uint32 }

// createFactors fills the factors a create request leaves unset, as
// Qdrant's create_collection does: shard_number from storage.collection
// (shard_number, else shard_number_per_node times the peers, else one
// per peer; 1 standalone), or 1 per shard key with custom sharding;
// replication_factor and write_consistency_factor from storage.collection,
// else 1.
func (n *Node) createFactors(req *collection.CreateRequest, method cluster.ShardingMethod, peers int) factors {
	d := n.opts.CollectionDefaults
	positive := func(v *uint32, def int) uint32 {
		switch {
		case v != nil:
			return *v
		case def > 0:
			return uint32(min(def, math.MaxUint32))
		}
		return 1
	}
	f := factors{rf: positive(req.ReplicationFactor, d.ReplicationFactor), wcf: positive(req.WriteConsistencyFactor, d.WriteConsistencyFactor)}
	switch {
	case req.ShardNumber != nil:
		f.shards = *req.ShardNumber
	case method.Custom():
		f.shards = 1
	default:
		f.shards = uint32(min(d.shardNumber(peers), collection.MaxShardNumber))
	}
	return f
}

// createLocal creates the collection's directory and opens it; setup
// (a cluster's topology) runs before the collection is anyone's to use.
func (n *Node) createLocal(name string, cfg *collection.Config, setup ...func(*collection.Collection) error) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.mu.closed {
		return errors.New("node is closed")
	}
	if _, ok := n.mu.collections[name]; ok {
		return point.Errorf(point.KindAlreadyExists, "Collection `%s` already exists!", name)
	}
	final := filepath.Join(n.collectionsDir(), name)
	// The temporary name must not grow with the collection name: a
	// 255-byte name plus a prefix would exceed the file system's limit.
	tmp, err := vfs.MkdirTemp(n.fs, n.collectionsDir(), ".creating-")
	if err != nil {
		return fmt.Errorf("create collection %q: %w", name, err)
	}
	if err := writeConfig(n.fs, tmp, cfg); err != nil {
		n.fs.RemoveAll(tmp)
		return err
	}
	if err := n.fs.Rename(tmp, final); err != nil {
		n.fs.RemoveAll(tmp)
		return fmt.Errorf("create collection %q: %w", name, err)
	}
	if err := n.fs.SyncDir(n.collectionsDir()); err != nil {
		return fmt.Errorf("create collection %q: %w", name, err)
	}
	c, err := collection.Open(n.fs, final, name, cfg, n.log, collection.WithClock(n.opts.Clock))
	if err != nil {
		// A new, empty collection: leave nothing behind that would make
		// every later create of the name fail.
		if rerr := n.fs.RemoveAll(final); rerr != nil {
			n.log.Error("removing a collection that failed to open", "collection", name, "err", rerr)
		}
		return fmt.Errorf("create collection %q: %w", name, err)
	}
	for _, f := range setup {
		if err := f(c); err != nil {
			return errors.Join(err, c.Close(), n.fs.RemoveAll(final))
		}
	}
	n.observe(c)
	n.mu.collections[name] = c
	n.log.Info("created collection", "collection", name)
	n.issues.CheckCollections(n.sizesLocked())
	return nil
}

// UpdateCollection applies a PATCH to a collection's configuration (in
// cluster mode through consensus).
func (n *Node) UpdateCollection(ctx context.Context, name string, req *collection.UpdateRequest) error {
	return n.changeConfig(ctx, name, func(cur *collection.Config) (*collection.Config, bool, error) {
		next, err := req.Apply(cur)
		return next, true, err
	})
}

// changeConfig applies change to a collection's configuration and, when
// it reports a change, persists and applies the result: here, or on every
// peer through consensus as a merge patch from the configuration it read
// (so that changes made meanwhile elsewhere are kept). Changes made through
// this node are serialized, so that none is computed from a stale
// configuration. Without a change, the collection is brought in line with
// its configuration (a retry after a change whose vectors' part failed).
func (n *Node) changeConfig(ctx context.Context, name string, change func(cur *collection.Config) (*collection.Config, bool, error)) error {
	n.cfgMu.Lock()
	defer n.cfgMu.Unlock()
	c, err := n.Collection(name)
	if err != nil {
		return err
	}
	cur, err := c.Config()
	if err != nil {
		return err
	}
	next, changed, err := change(cur)
	if err != nil {
		return err
	}
	if !changed {
		return c.SyncVectors(ctx)
	}
	// By its real name when addressed through an alias.
	if n.cl != nil {
		return n.cl.updateCollection(ctx, c.Name(), cur, next)
	}
	return n.updateLocal(c.Name(), next)
}

// updateLocal persists and applies a collection's new configuration.
func (n *Node) updateLocal(name string, next *collection.Config) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	c, ok := n.mu.collections[name]
	if !ok {
		return point.CollectionNotFound(name)
	}
	if err := writeConfig(n.fs, filepath.Join(n.collectionsDir(), name), next); err != nil {
		return err
	}
	return c.SetConfig(next)
}

// DeleteCollection removes a collection (in cluster mode through
// consensus); false when it did not exist.
func (n *Node) DeleteCollection(ctx context.Context, name string) (bool, error) {
	if n.cl != nil {
		return n.cl.deleteCollection(ctx, name)
	}
	existed, err := n.deleteLocal(name)
	if existed {
		n.local.mu.Lock()
		defer n.local.mu.Unlock()
		_, aerr := n.local.apply(cluster.DeleteCollection{Name: name})
		err = errors.Join(err, aerr)
	}
	return existed, err
}

// deleteLocal closes a collection and removes its directory.
func (n *Node) deleteLocal(name string) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	c, ok := n.mu.collections[name]
	if !ok {
		return false, nil
	}
	delete(n.mu.collections, name)
	dir := filepath.Join(n.collectionsDir(), name)
	closeErr := c.Close()
	// As in create, the temporary name does not embed the collection name.
	trash, err := vfs.MkdirTemp(n.fs, n.collectionsDir(), ".deleting-")
	if err != nil {
		return true, fmt.Errorf("delete collection %q: %w", name, err)
	}
	if err := n.fs.Rename(dir, filepath.Join(trash, "c")); err != nil {
		n.fs.Remove(trash)
		return true, fmt.Errorf("delete collection %q: %w", name, err)
	}
	if err := n.fs.SyncDir(n.collectionsDir()); err != nil {
		return true, fmt.Errorf("delete collection %q: %w", name, err)
	}
	if err := n.fs.RemoveAll(trash); err != nil {
		return true, fmt.Errorf("delete collection %q: %w", name, err)
	}
	if closeErr != nil {
		n.log.Warn("closing deleted collection", "collection", name, "err", closeErr)
	}
	n.log.Info("deleted collection", "collection", name)
	n.issues.SolveCollection(name)
	n.issues.CheckCollections(n.sizesLocked())
	return true, nil
}

// Close stops a cluster peer's goroutines, then flushes and closes every
// collection.
func (n *Node) Close() error {
	if n.cl != nil {
		n.cl.stop()
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.mu.closed {
		return nil
	}
	n.mu.closed = true
	var errs []error
	for name, c := range n.mu.collections {
		if err := c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close collection %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// StoragePath is the directory the node keeps its data in.
func (n *Node) StoragePath() string { return n.opts.StoragePath }
