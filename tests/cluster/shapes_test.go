package cluster_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/testkit"
)

// TestClusterShapes: what clients and operators read of a three-peer
// cluster: a deleted metadata key reads null everywhere, as does one never
// set (and setting null deletes); /telemetry's cluster section lists every
// peer with its peer_metadata (the Qdrant version it speaks); the quota set
// on one peer is in force on every peer; /metrics says the cluster is on.
func TestClusterShapes(t *testing.T) {
	c := clustertest.Start(t, 3, clustertest.Options{})
	leader := leaderPeer(t, c, c.Peers)
	f := follower(c, leader)

	// Metadata keys: set, delete, null.
	if err := f.Do(http.MethodPut, "/cluster/metadata/keys/owner", map[string]any{"team": "search"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Do(http.MethodPut, "/cluster/metadata/keys/tmp", 7, nil); err != nil {
		t.Fatal(err)
	}
	if err := leader.Do(http.MethodDelete, "/cluster/metadata/keys/owner", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := leader.Do(http.MethodPut, "/cluster/metadata/keys/tmp", json.RawMessage("null"), nil); err != nil {
		t.Fatal(err) // a JSON null value deletes the key
	}
	testkit.Eventually(t, "deleted keys read null on every peer", 10*time.Second, func() error {
		for _, p := range c.Peers {
			for _, k := range []string{"owner", "tmp", "never-set"} {
				raw, err := result(p, "/cluster/metadata/keys/"+k)
				if err != nil || string(raw) != "null" {
					return fmt.Errorf("peer %d: key %s reads %s (%v)", p.Index, k, raw, err)
				}
			}
			var keys []string
			if err := p.Do(http.MethodGet, "/cluster/metadata/keys", nil, &keys); err != nil || len(keys) != 0 {
				return fmt.Errorf("peer %d: keys %v (%v)", p.Index, keys, err)
			}
		}
		return nil
	})

	// Telemetry: every peer's metadata, on every peer.
	st, err := leader.Cluster()
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "peer_metadata of every peer", 20*time.Second, func() error {
		for _, p := range c.Peers {
			var tel struct {
				Cluster struct {
					Enabled      bool                                `json:"enabled"`
					Status       *struct{ NumberOfPeers int }        `json:"status"`
					Peers        map[string]struct{ URI string }     `json:"peers"`
					PeerMetadata map[string]struct{ Version string } `json:"peer_metadata"`
					Config       *struct {
						GRPCTimeoutMS uint64 `json:"grpc_timeout_ms"`
					} `json:"config"`
				} `json:"cluster"`
			}
			if err := p.Do(http.MethodGet, "/telemetry?details_level=2", nil, &tel); err != nil {
				return err
			}
			cl := tel.Cluster
			if !cl.Enabled || cl.Status == nil || len(cl.Peers) != 3 || cl.Config == nil || cl.Config.GRPCTimeoutMS == 0 {
				return fmt.Errorf("peer %d: cluster %+v", p.Index, cl)
			}
			if len(cl.PeerMetadata) != 3 {
				return fmt.Errorf("peer %d: peer_metadata %v", p.Index, cl.PeerMetadata)
			}
			for id, m := range cl.PeerMetadata {
				if _, ok := st.Peers[id]; !ok || m.Version != "1.19.0" {
					return fmt.Errorf("peer %d: peer_metadata %s = %+v", p.Index, id, m)
				}
			}
		}
		return nil
	})

	// The quota, set through one peer, is in force everywhere.
	if err := f.Do(http.MethodPut, "/quotas?wait=true", map[string]any{"enabled": true, "max_disk_usage_percent": 99, "release_margin_percent": 3}, nil); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the quota on every peer", 10*time.Second, func() error {
		for _, p := range c.Peers {
			var q struct {
				Config map[string]any `json:"config"`
				Peers  map[string]struct {
					Exceeded bool `json:"exceeded"`
				} `json:"peers"`
			}
			if err := p.Do(http.MethodGet, "/quotas", nil, &q); err != nil {
				return err
			}
			self, _ := p.Cluster()
			if q.Config["max_disk_usage_percent"] != float64(99) || q.Config["release_margin_percent"] != float64(3) || q.Config["enabled"] != true {
				return fmt.Errorf("peer %d: config %v", p.Index, q.Config)
			}
			if _, ok := q.Peers[strconv.FormatUint(self.PeerID, 10)]; !ok {
				return fmt.Errorf("peer %d: peers %v lack itself", p.Index, q.Peers)
			}
		}
		return nil
	})

	resp, err := http.Get(leader.BaseURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"cluster_enabled 1", "cluster_peers_total 3", `cluster_working_state{state="working"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if !slices.Contains(strings.Split(string(body), "\n"), "# TYPE cluster_term counter") {
		t.Error("cluster_term is not a counter")
	}
}

// result returns the raw result of a GET.
func result(p *clustertest.Peer, path string) (json.RawMessage, error) {
	var raw json.RawMessage
	err := p.Do(http.MethodGet, path, nil, &raw)
	return raw, err
}
