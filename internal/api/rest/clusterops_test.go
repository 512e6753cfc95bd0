package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// TestClusterOperationsStandalone: POST /collections/{c}/cluster on a
// standalone node refuses every transfer operation as Qdrant does
// ("Distributed mode disabled"), a body that fits no ClusterOperations
// variant with serde's words, and a missing collection with 404; the
// shard-key variants work without a cluster, as PUT /shards does.
func TestClusterOperationsStandalone(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.ok(http.MethodPut, "/collections/c", `{"vectors": {"size": 2, "distance": "Dot"}}`, nil)
	s.ok(http.MethodPut, "/collections/k", `{"vectors": {"size": 2, "distance": "Dot"}, "sharding_method": "custom"}`, nil)
	const noVariant = "Format error in JSON body: data did not match any variant of untagged enum ClusterOperations"
	for _, tc := range []struct {
		name, coll, body string
		code             int
		text             string
	}{
		{"move", "c", `{"move_shard": {"shard_id": 0, "from_peer_id": 1, "to_peer_id": 2}}`, 400, "Distributed mode disabled"},
		{"replicate with method", "c", `{"replicate_shard": {"shard_id": 0, "from_peer_id": 1, "to_peer_id": 2, "method": "wal_delta"}}`, 400, "Distributed mode disabled"},
		{"abort", "c", `{"abort_transfer": {"shard_id": 0, "from_peer_id": 1, "to_peer_id": 2}}`, 400, "Distributed mode disabled"},
		{"drop replica", "c", `{"drop_replica": {"shard_id": 0, "peer_id": 1}}`, 400, "Distributed mode disabled"},
		{"restart", "c", `{"restart_transfer": {"shard_id": 0, "from_peer_id": 1, "to_peer_id": 2, "method": "snapshot"}}`, 400, "Distributed mode disabled"},
		{"restart without method", "c", `{"restart_transfer": {"shard_id": 0, "from_peer_id": 1, "to_peer_id": 2}}`, 400, noVariant},
		{"unknown method", "c", `{"move_shard": {"shard_id": 0, "from_peer_id": 1, "to_peer_id": 2, "method": "fax"}}`, 400, noVariant},
		{"missing peer", "c", `{"move_shard": {"shard_id": 0, "to_peer_id": 2}}`, 400, noVariant},
		{"shard id beyond u32", "c", `{"drop_replica": {"shard_id": 4294967296, "peer_id": 1}}`, 400, noVariant},
		{"two operations", "c", `{"drop_replica": {"shard_id": 0, "peer_id": 1}, "abort_transfer": {"shard_id": 0, "from_peer_id": 1, "to_peer_id": 2}}`, 400, noVariant},
		{"empty", "c", `{}`, 400, noVariant},
		{"missing collection", "nope", `{"move_shard": {"shard_id": 0, "from_peer_id": 1, "to_peer_id": 2}}`, 400, "Distributed mode disabled"},
		{"create sharding key", "k", `{"create_sharding_key": {"shard_key": "eu"}}`, 200, ""},
		{"drop sharding key", "k", `{"drop_sharding_key": {"shard_key": "eu"}}`, 200, ""},
		{"drop missing sharding key", "k", `{"drop_sharding_key": {"shard_key": "us"}}`, 400, `Sharding key \"us\" does not exist for collection k`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(http.MethodPost, "/collections/"+tc.coll+"/cluster", tc.body)
			if r.code != tc.code || !strings.Contains(string(r.body), tc.text) {
				t.Fatalf("status %d %s, want %d with %q", r.code, r.body, tc.code, tc.text)
			}
		})
	}
}
