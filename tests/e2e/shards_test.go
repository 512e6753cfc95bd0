package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// e2eShards is the shard_number call adds to a collection's create request
// that names none: 1 (none added), or 4 while TestE2EFourShards reruns
// tests on collections of four shards.
var e2eShards = 1

// withShards adds shard_number to the body of PUT /collections/{name}
// when it is an object without one.
func withShards(method, path string, body any) any {
	rest, ok := strings.CutPrefix(path, "/collections/")
	if e2eShards <= 1 || method != http.MethodPut || !ok || strings.ContainsAny(rest, "/?") {
		return body
	}
	data, err := json.Marshal(body)
	if err != nil {
		return body
	}
	var m map[string]any
	if json.Unmarshal(data, &m) != nil || m == nil || m["shard_number"] != nil {
		return body
	}
	m["shard_number"] = e2eShards
	return m
}

// TestE2EFourShards reruns end-to-end tests of durability on collections
// of four shards: acknowledged writes (dense, sparse, conditional)
// survive kill -9 in every shard, named vectors come back after restarts,
// the API's shapes hold and shutdown is clean. Left out, as they describe
// one shard: the count of "payload indexes loaded" log lines, the
// indexing threshold of one shard's segment, and the error of a batch
// whose failing operation some shards applied (inconsistent, as Qdrant).
func TestE2EFourShards(t *testing.T) {
	tests := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"Kill9KeepsAcknowledgedWrites", TestKill9KeepsAcknowledgedWrites},
		{"ConditionalUpdatesSurviveKill9", TestConditionalUpdatesSurviveKill9},
		{"SparseKill9KeepsAcknowledgedWrites", TestSparseKill9KeepsAcknowledgedWrites},
		{"NamedVectorsSurviveRestart", TestNamedVectorsSurviveRestart},
		{"ShapesE2E", TestShapesE2E},
		{"GracefulShutdown", TestGracefulShutdown},
	}
	e2eShards = 4
	defer func() { e2eShards = 1 }()
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}
