package collection

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strconv"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
	"github.com/shoaldb/shoal/internal/snapshot"
	"github.com/shoaldb/shoal/internal/vfs"
)

// Collection snapshots (Qdrant's collection snapshot): an archive of kind
// collection holding
//
//	config.json              the configuration, as the node saves it
//	shards.json              the shards of the image, all local (placement.go)
//	shards/<id>/...          the image of each local shard (shard.Snapshot)
//
// Each shard's image is consistent on its own (every write the shard
// logged before its turn, none after); shards are taken one after the
// other, as Qdrant does.

// ConfigFile is the name of a collection's configuration in its directory
// and in its archives.
const ConfigFile = "config.json"

// SnapshotMeta is the meta of a collection archive.
type SnapshotMeta struct {
	Name   string              `json:"name"`
	Shards []ShardSnapshotMeta `json:"shards"`
}

// ShardSnapshotMeta describes one shard image of a collection archive.
type ShardSnapshotMeta struct {
	ID      ShardID `json:"id"`
	Applied uint64  `json:"applied"`
	Points  int     `json:"points"`
}

// Points is the number of points the archive holds.
func (m SnapshotMeta) Points() int {
	n := 0
	for _, s := range m.Shards {
		n += s.Points
	}
	return n
}

// Snapshot writes the collection (configuration, shards.json, the image
// of each local shard) to w.
func (c *Collection) Snapshot(ctx context.Context, w *snapshot.Writer) (SnapshotMeta, error) {
	cfg, err := c.Config()
	if err != nil {
		return SnapshotMeta{}, err
	}
	raw, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return SnapshotMeta{}, fmt.Errorf("encode collection config: %w", err)
	}
	if err := w.AddBytes(ConfigFile, raw); err != nil {
		return SnapshotMeta{}, err
	}
	l := c.layout()
	saved := savedShards{Shards: []savedShard{}}
	meta := SnapshotMeta{Name: c.name, Shards: []ShardSnapshotMeta{}}
	for _, rs := range l.sets {
		sh, _ := rs.Local()
		if sh == nil {
			continue
		}
		sm, err := sh.Snapshot(ctx, w, path.Join("shards", strconv.FormatUint(uint64(rs.id), 10)))
		if err != nil {
			return SnapshotMeta{}, fmt.Errorf("snapshot shard %d: %w", rs.id, err)
		}
		saved.Shards = append(saved.Shards, savedShard{ID: rs.id, Key: l.keyOf(rs.id), Local: true})
		meta.Shards = append(meta.Shards, ShardSnapshotMeta{ID: rs.id, Applied: sm.Applied, Points: sm.Points})
	}
	raw, err = json.Marshal(saved)
	if err != nil {
		return SnapshotMeta{}, err
	}
	if err := w.AddBytes(shardsFile, raw); err != nil {
		return SnapshotMeta{}, err
	}
	return meta, nil
}

// ExtractSnapshot reads a collection archive from r into dir (which must
// not exist) and checks it: its kind, configuration, shards.json and each
// shard image. It returns the configuration and the meta. On failure dir
// is removed; refusals match snapshot.ErrInvalid.
func ExtractSnapshot(r io.Reader, dir string, opts snapshot.Options) (*Config, SnapshotMeta, error) {
	if _, err := vfs.Default.Stat(dir); err == nil {
		return nil, SnapshotMeta{}, fmt.Errorf("extract collection snapshot: %s exists", dir)
	}
	cfg, meta, err := extractSnapshot(r, dir, opts)
	if err != nil {
		vfs.Default.RemoveAll(dir)
		return nil, SnapshotMeta{}, err
	}
	return cfg, meta, nil
}

func extractSnapshot(r io.Reader, dir string, opts snapshot.Options) (*Config, SnapshotMeta, error) {
	m, err := snapshot.Extract(r, dir, opts)
	if err != nil {
		return nil, SnapshotMeta{}, err
	}
	if m.Kind != snapshot.KindCollection {
		return nil, SnapshotMeta{}, fmt.Errorf("the archive holds a %s snapshot, not a collection: %w", m.Kind, snapshot.ErrManifest)
	}
	var meta SnapshotMeta
	if err := json.Unmarshal(m.Meta, &meta); err != nil {
		return nil, SnapshotMeta{}, fmt.Errorf("collection snapshot meta: %w (%w)", snapshot.ErrManifest, err)
	}
	b, err := vfs.ReadFile(vfs.Default, filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, SnapshotMeta{}, fmt.Errorf("collection snapshot: %w (%w)", snapshot.ErrManifest, err)
	}
	var cfg Config
	if err := point.DecodeJSON(b, &cfg); err != nil {
		return nil, SnapshotMeta{}, fmt.Errorf("collection snapshot: decode %s: %w (%w)", ConfigFile, snapshot.ErrManifest, err)
	}
	c := &Collection{dir: dir}
	saved, err := c.loadShards()
	if err != nil || saved == nil {
		return nil, SnapshotMeta{}, fmt.Errorf("collection snapshot: %s: %w (%v)", shardsFile, snapshot.ErrManifest, err)
	}
	if len(saved.Shards) != len(meta.Shards) {
		return nil, SnapshotMeta{}, fmt.Errorf("collection snapshot: %s lists %d shards, the meta %d: %w", shardsFile, len(saved.Shards), len(meta.Shards), snapshot.ErrManifest)
	}
	for _, s := range saved.Shards {
		if !s.Local || s.ID >= MaxShardNumber {
			return nil, SnapshotMeta{}, fmt.Errorf("collection snapshot: %s: shard %d: %w", shardsFile, s.ID, snapshot.ErrManifest)
		}
		if err := shard.CheckImage(vfs.Default, shardDir(dir, s.ID)); err != nil {
			return nil, SnapshotMeta{}, fmt.Errorf("collection snapshot: shard %d: %w", s.ID, err)
		}
	}
	return &cfg, meta, nil
}
