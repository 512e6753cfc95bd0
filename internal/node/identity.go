package node

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/shoaldb/shoal/internal/vfs"
)

// identity is what a peer keeps about itself across restarts, as Qdrant
// keeps raft_state.json: its id and the URI it last announced.
type identity struct {
	PeerID uint64 `json:"peer_id"`
	URI    string `json:"uri"`
}

const maxPeerID = 1<<53 - 1 // Qdrant's range: 1..2^53-1

func identityPath(storage string) string { return filepath.Join(storage, "cluster", "peer.json") }

// loadIdentity reads the peer's identity; ok is false on a first start.
func loadIdentity(fsys vfs.FS, storage string) (identity, bool, error) {
	var id identity
	b, err := vfs.ReadFile(fsys, identityPath(storage))
	if errors.Is(err, fs.ErrNotExist) {
		return id, false, nil
	}
	if err != nil {
		return id, false, fmt.Errorf("read peer identity: %w", err)
	}
	if err := json.Unmarshal(b, &id); err != nil || id.PeerID == 0 || id.PeerID > maxPeerID {
		return id, false, fmt.Errorf("peer identity %s is damaged", identityPath(storage))
	}
	return id, true, nil
}

func saveIdentity(fsys vfs.FS, storage string, id identity) error {
	if err := vfs.EnsureDir(fsys, filepath.Dir(identityPath(storage)), 0o755); err != nil {
		return err
	}
	return vfs.WriteFileAtomic(fsys, identityPath(storage), func(w io.Writer) error {
		return json.NewEncoder(w).Encode(id)
	})
}

// randomPeerID picks an id in 1..2^53-1.
func randomPeerID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])%maxPeerID + 1
}
