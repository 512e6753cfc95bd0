package cluster

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/shoaldb/shoal/internal/quota"
)

// State is the cluster metadata every peer agrees on. The zero value is not
// usable; start from New or Restore.
type State struct {
	peers       map[PeerID]string
	collections map[string]*Collection
	aliases     map[string]string // alias -> collection
	metadata    map[string]json.RawMessage
	peerMeta    map[PeerID]PeerMetadata
	quota       *quota.Config // nil: never set
}

// PeerMetadata is Qdrant's PeerMetadata: what a peer says about itself.
type PeerMetadata struct {
	Version string `json:"version"`
}

// Result tells what an applied op did.
type Result struct {
	// Changed is false when the op was a valid no-op (deleting a missing
	// collection, re-adding a known peer), as Qdrant's meta operations
	// answer false.
	Changed bool
}

// New returns an empty state: no peers, no collections.
func New() *State {
	return &State{
		peers:       map[PeerID]string{},
		collections: map[string]*Collection{},
		aliases:     map[string]string{},
		metadata:    map[string]json.RawMessage{},
		peerMeta:    map[PeerID]PeerMetadata{},
	}
}

// Clone returns a deep copy of s.
func (s *State) Clone() *State {
	out := &State{
		peers:       maps.Clone(s.peers),
		collections: make(map[string]*Collection, len(s.collections)),
		aliases:     maps.Clone(s.aliases),
		metadata:    make(map[string]json.RawMessage, len(s.metadata)),
		peerMeta:    maps.Clone(s.peerMeta),
	}
	if s.quota != nil {
		q := cloneQuota(*s.quota)
		out.quota = &q
	}
	for n, c := range s.collections {
		out.collections[n] = c.clone()
	}
	for k, v := range s.metadata {
		out.metadata[k] = slices.Clone(v)
	}
	return out
}

// PeerMetadata returns what each peer said about itself.
func (s *State) PeerMetadata() map[PeerID]PeerMetadata { return maps.Clone(s.peerMeta) }

// Quota returns the cluster-wide quota, false when it was never set.
func (s *State) Quota() (quota.Config, bool) {
	if s.quota == nil {
		return quota.Config{}, false
	}
	return cloneQuota(*s.quota), true
}

func cloneQuota(c quota.Config) quota.Config {
	cp := func(p *uint8) *uint8 {
		if p == nil {
			return nil
		}
		v := *p
		return &v
	}
	c.MaxResidentMemoryPercent = cp(c.MaxResidentMemoryPercent)
	c.MaxDiskUsagePercent = cp(c.MaxDiskUsagePercent)
	c.ReleaseMarginPercent = cp(c.ReleaseMarginPercent)
	return c
}

// Peers returns the known peers and their URIs.
func (s *State) Peers() map[PeerID]string { return maps.Clone(s.peers) }

// PeerIDs returns the known peer ids, sorted.
func (s *State) PeerIDs() []PeerID { return slices.Sorted(maps.Keys(s.peers)) }

// PeerURI returns the URI of a peer.
func (s *State) PeerURI(id PeerID) (string, bool) {
	uri, ok := s.peers[id]
	return uri, ok
}

// CollectionNames returns the names of all collections, sorted.
func (s *State) CollectionNames() []string { return slices.Sorted(maps.Keys(s.collections)) }

// Collection returns a copy of a collection's state, by its real name.
func (s *State) Collection(name string) (Collection, bool) {
	c, ok := s.collections[name]
	if !ok {
		return Collection{}, false
	}
	return *c.clone(), true
}

// Resolve returns the collection a name refers to: the collection itself,
// or the target of the alias of that name.
func (s *State) Resolve(name string) (string, bool) {
	if _, ok := s.collections[name]; ok {
		return name, true
	}
	target, ok := s.aliases[name]
	return target, ok
}

// Aliases returns all aliases and their collections.
func (s *State) Aliases() map[string]string { return maps.Clone(s.aliases) }

// AliasesOf returns the aliases pointing at a collection, sorted.
func (s *State) AliasesOf(collection string) []string {
	var out []string
	for a, c := range s.aliases {
		if c == collection {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// MetadataKeys returns the cluster metadata keys, sorted.
func (s *State) MetadataKeys() []string { return slices.Sorted(maps.Keys(s.metadata)) }

// Metadata returns the value of a cluster metadata key.
func (s *State) Metadata(key string) (json.RawMessage, bool) {
	v, ok := s.metadata[key]
	return slices.Clone(v), ok
}

// PeerLoad returns how many replicas each known peer holds over all
// collections; peers without replicas are present with 0.
func (s *State) PeerLoad() map[PeerID]int {
	load := make(map[PeerID]int, len(s.peers))
	for p := range s.peers {
		load[p] = 0
	}
	for _, c := range s.collections {
		for _, r := range c.Shards {
			for p := range r {
				if _, ok := load[p]; ok {
					load[p]++
				}
			}
		}
	}
	return load
}
