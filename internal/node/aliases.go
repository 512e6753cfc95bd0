package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sync"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vfs"
)

// Aliases live in the metadata state (internal/cluster), which validates
// them as Qdrant does. In cluster mode that is the state consensus keeps;
// standalone, the node keeps a local one with its collections and one
// synthetic peer, saved to storage/aliases.json after every change.

const localPeer = 1

// localMeta is the standalone node's metadata state.
type localMeta struct {
	mu    sync.Mutex
	state *cluster.State
	path  string
	fs    vfs.FS
}

func (n *Node) openLocalMeta() error {
	m := &localMeta{path: filepath.Join(n.opts.StoragePath, "aliases.json"), fs: n.fs}
	st := cluster.New()
	if b, err := vfs.ReadFile(n.fs, m.path); err == nil {
		if st, err = cluster.Restore(b); err != nil {
			return fmt.Errorf("load %s: %w", m.path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", m.path, err)
	}
	if _, err := st.Apply(cluster.AddPeer{ID: localPeer, URI: "local"}); err != nil {
		return err
	}
	// The collections on disk are the truth; aliases of a collection
	// that is gone go with it.
	local := map[string]bool{}
	for _, name := range n.Collections() {
		local[name] = true
		if _, ok := st.Collection(name); !ok {
			if _, err := st.Apply(localCreate(name)); err != nil {
				return fmt.Errorf("collection %q: %w", name, err)
			}
		}
	}
	for _, name := range st.CollectionNames() {
		if !local[name] {
			_, _ = st.Apply(cluster.DeleteCollection{Name: name})
		}
	}
	m.state = st
	n.local = m
	n.applyQuota(st)
	return m.save()
}

func localCreate(name string) cluster.CreateCollection {
	return cluster.CreateCollection{Name: name, ShardNumber: 1, ReplicationFactor: 1, WriteConsistencyFactor: 1}
}

// apply changes the local state and saves it; the caller holds m.mu.
func (m *localMeta) apply(op cluster.Op) (cluster.Result, error) {
	res, err := m.state.Apply(op)
	if err != nil {
		return res, err
	}
	return res, m.save()
}

func (m *localMeta) save() error {
	b, err := m.state.Snapshot()
	if err != nil {
		return err
	}
	return vfs.WriteFileAtomic(m.fs, m.path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// meta runs fn on the metadata state that holds the aliases.
func (n *Node) meta(fn func(st *cluster.State)) {
	if n.cl != nil {
		n.cl.mu.Lock()
		defer n.cl.mu.Unlock()
		fn(n.cl.state)
		return
	}
	n.local.mu.Lock()
	defer n.local.mu.Unlock()
	fn(n.local.state)
}

// resolve maps an alias to its collection (a collection name maps to
// itself).
func (n *Node) resolve(name string) string {
	out := name
	n.meta(func(st *cluster.State) {
		if target, ok := st.Resolve(name); ok {
			out = target
		}
	})
	return out
}

// nameTaken fails when a collection cannot be called name because an
// alias is (Qdrant answers 400).
func (n *Node) nameTaken(name string) error {
	var err error
	n.meta(func(st *cluster.State) {
		if target, ok := st.Aliases()[name]; ok {
			err = point.Errorf(point.KindBadRequest, "Wrong input: Can't create collection with name %s. Alias with the same name already exists (for collection %s)", name, target)
		}
	})
	return err
}

// AliasAction is one alias change of POST /collections/aliases.
type AliasAction = cluster.AliasAction

// ChangeAliases applies alias actions atomically (in cluster mode through
// consensus).
func (n *Node) ChangeAliases(ctx context.Context, actions []AliasAction) error {
	op := cluster.ChangeAliases{Actions: actions}
	if n.cl != nil {
		_, err := n.cl.propose(ctx, op)
		return err
	}
	n.local.mu.Lock()
	defer n.local.mu.Unlock()
	_, err := n.local.apply(op)
	return err
}

// Aliases returns every alias and its collection.
func (n *Node) Aliases() map[string]string {
	var out map[string]string
	n.meta(func(st *cluster.State) { out = st.Aliases() })
	return out
}
