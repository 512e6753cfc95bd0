package cluster_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/testkit"
)

// TestClusterNamedVectors: a named vector added through one peer and
// dropped through another is added and dropped on every peer, as every
// configuration change, through consensus: each peer's collection shows
// it and takes points with it, then shows it gone and refuses them.
func TestClusterNamedVectors(t *testing.T) {
	c := clustertest.Start(t, 3, clustertest.Options{})
	leader := leaderPeer(t, c, c.Peers)
	f := follower(c, leader)
	if err := leader.Do(http.MethodPut, "/collections/nv", map[string]any{"vectors": map[string]any{"a": map[string]any{"size": 2, "distance": "Dot"}}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Do(http.MethodPut, "/collections/nv/vectors/b?wait=true", map[string]any{"dense": map[string]any{"size": 3, "distance": "Cosine"}}, nil); err != nil {
		t.Fatal(err)
	}
	vectorsOn := func(p *clustertest.Peer) (string, error) {
		var info struct {
			Config struct {
				Params struct {
					Vectors json.RawMessage `json:"vectors"`
				} `json:"params"`
			} `json:"config"`
		}
		if err := p.Do(http.MethodGet, "/collections/nv", nil, &info); err != nil {
			return "", err
		}
		return string(info.Config.Params.Vectors), nil
	}
	upsert := func(p *clustertest.Peer) error {
		return p.Do(http.MethodPut, "/collections/nv/points?wait=true", map[string]any{"points": []any{
			map[string]any{"id": 1, "vector": map[string]any{"a": []float32{1, 2}, "b": []float32{1, 2, 3}}}}}, nil)
	}
	testkit.Eventually(t, "b on every peer", 20*time.Second, func() error {
		for _, p := range c.Peers {
			got, err := vectorsOn(p)
			if err != nil || got != `{"a":{"size":2,"distance":"Dot"},"b":{"size":3,"distance":"Cosine"}}` {
				return fmt.Errorf("peer %d: vectors %s (%v)", p.Index, got, err)
			}
		}
		return nil
	})
	for _, p := range c.Peers {
		if err := upsert(p); err != nil {
			t.Fatalf("peer %d: a point with b: %v", p.Index, err)
		}
	}
	if err := leader.Do(http.MethodDelete, "/collections/nv/vectors/b?wait=true", nil, nil); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "b gone from every peer", 20*time.Second, func() error {
		for _, p := range c.Peers {
			got, err := vectorsOn(p)
			if err != nil || got != `{"a":{"size":2,"distance":"Dot"}}` {
				return fmt.Errorf("peer %d: vectors %s (%v)", p.Index, got, err)
			}
			if err := upsert(p); err == nil {
				return fmt.Errorf("peer %d takes a point with b after the drop", p.Index)
			}
		}
		return nil
	})
}
