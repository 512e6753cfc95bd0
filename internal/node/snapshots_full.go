package node

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/snapshot"
	"github.com/shoaldb/shoal/internal/vfs"
)

// Full-storage snapshots (Qdrant's /snapshots): files
// <snapshots_path>/full-snapshot-<time>.snapshot (with .checksum), archives
// of kind storage holding one collection archive per collection,
// collections/<name>.snapshot, and aliases.json (alias -> collection);
// the meta lists the collections. --storage-snapshot restores one before
// the node serves.

// StorageSnapshotMeta is the meta of a storage archive.
type StorageSnapshotMeta struct {
	Collections []string          `json:"collections"`
	Aliases     map[string]string `json:"aliases"`
}

const aliasesEntry = "aliases.json"

// CreateFullSnapshot writes a snapshot of every collection and the aliases.
func (n *Node) CreateFullSnapshot(ctx context.Context) (*SnapshotDescription, error) {
	names := n.Collections()
	aliases := n.Aliases()
	tmpDir := filepath.Join(n.snapshotsDir(), "tmp")
	if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		return nil, fmt.Errorf("create full snapshot: %w", err)
	}
	file := fmt.Sprintf("full-snapshot-%s.snapshot", time.Now().UTC().Format("2006-01-02-15-04-05"))
	return n.writeSnapshot(n.snapshotsDir(), file, snapshot.KindStorage, "storage", "full", func(w *snapshot.Writer) (any, error) {
		meta := StorageSnapshotMeta{Collections: []string{}, Aliases: aliases}
		for _, name := range names {
			c, err := n.Collection(name)
			if err != nil {
				continue // dropped meanwhile
			}
			d, err := n.writeSnapshot(tmpDir, fmt.Sprintf("%s-%d.snapshot", name, time.Now().UnixNano()), snapshot.KindCollection, "collection", name, func(cw *snapshot.Writer) (any, error) {
				return c.Snapshot(ctx, cw)
			})
			if err != nil {
				return nil, err
			}
			p := filepath.Join(tmpDir, d.Name)
			err = w.AddPath("collections/"+name+".snapshot", p)
			removeSnapshot(p)
			if err != nil {
				return nil, err
			}
			meta.Collections = append(meta.Collections, name)
		}
		raw, err := json.Marshal(aliases)
		if err != nil {
			return nil, err
		}
		return meta, w.AddBytes(aliasesEntry, raw)
	})
}

// ListFullSnapshots describes the full-storage snapshots.
func (n *Node) ListFullSnapshots() ([]SnapshotDescription, error) {
	return listSnapshots(n.snapshotsDir())
}

// FullSnapshotFile is the path of a full-storage snapshot.
func (n *Node) FullSnapshotFile(file string) (string, error) {
	return snapshotPath(n.snapshotsDir(), file)
}

// DeleteFullSnapshot removes a full-storage snapshot and its checksum.
func (n *Node) DeleteFullSnapshot(file string) error {
	p, err := n.FullSnapshotFile(file)
	if err != nil {
		return err
	}
	return removeSnapshot(p)
}

// RestoreStorageSnapshotAtStart restores every collection and alias of
// the storage archive at path before the node serves
// (--storage-snapshot). Existing collections are replaced only with
// force. The archive is extracted and checked whole first.
func (n *Node) RestoreStorageSnapshotAtStart(path string, force bool) error {
	if n.cl != nil {
		return errSnapshotCluster
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("storage snapshot: %w", err)
	}
	defer f.Close()
	staging, err := vfs.MkdirTemp(vfs.Default, n.collectionsDir(), ".restoring-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	m, err := snapshot.Extract(f, filepath.Join(staging, "full"), snapshot.Options{})
	if err != nil {
		return fmt.Errorf("storage snapshot %s: %w", path, err)
	}
	var meta StorageSnapshotMeta
	if m.Kind != snapshot.KindStorage || json.Unmarshal(m.Meta, &meta) != nil {
		return fmt.Errorf("storage snapshot %s: not a storage snapshot: %w", path, snapshot.ErrManifest)
	}
	for _, name := range meta.Collections {
		if err := ValidateCollectionName(name); err != nil {
			return fmt.Errorf("storage snapshot %s: collection %q: %w", path, name, snapshot.ErrManifest)
		}
	}
	if !force {
		for _, name := range meta.Collections {
			if slices.Contains(n.Collections(), name) {
				return fmt.Errorf("collection %s already exists; use --force-snapshot to overwrite it", name)
			}
		}
	}
	for _, name := range meta.Collections {
		if err := n.recoverFromFile(name, filepath.Join(staging, "full", "collections", name+".snapshot"), ""); err != nil {
			return fmt.Errorf("storage snapshot: collection %s: %w", name, err)
		}
	}
	var actions []AliasAction
	for _, alias := range slices.Sorted(maps.Keys(meta.Aliases)) {
		actions = append(actions, AliasAction{Create: &cluster.CreateAlias{CollectionName: meta.Aliases[alias], AliasName: alias}})
	}
	if len(actions) > 0 {
		if err := n.ChangeAliases(context.Background(), actions); err != nil {
			return fmt.Errorf("storage snapshot: aliases: %w", err)
		}
	}
	n.log.Info("storage restored from snapshot", "snapshot", path, "collections", len(meta.Collections), "aliases", len(actions))
	return nil
}
