package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/shoaldb/shoal/internal/collection"
)

// Routing parameters, as Qdrant's REST API takes them: `ordering` (a query
// parameter of every update route), `consistency` (a query parameter of
// every read route) and `shard_key` (a field of the bodies of updates and
// reads: Qdrant's ShardKeySelector). They reach the collection in the
// request's context (collection.WithRouting). A batch (points/batch,
// search/batch, query/batch) carries a shard key per operation or request:
// its consecutive items that select the same shards run as one batch.

// queryOrdering parses ?ordering= (default weak).
func queryOrdering(r *http.Request) (collection.WriteOrdering, error) {
	q := r.URL.Query()
	if !q.Has("ordering") {
		return collection.OrderingWeak, nil
	}
	switch v := q.Get("ordering"); v {
	case "weak":
		return collection.OrderingWeak, nil
	case "medium":
		return collection.OrderingMedium, nil
	case "strong":
		return collection.OrderingStrong, nil
	default:
		return 0, badRequest("Query deserialize error: ordering: unknown variant `%s`, expected one of `weak`, `medium`, `strong`", v)
	}
}

// queryConsistency parses ?consistency= (default: one replica per shard).
// Qdrant's ReadConsistency is an untagged enum of a factor (a positive
// integer) and majority, quorum or all: any other value, 0 included, fails
// every variant, and serde says so.
func queryConsistency(r *http.Request) (collection.ReadConsistency, error) {
	q := r.URL.Query()
	if !q.Has("consistency") {
		return collection.ReadConsistency{}, nil
	}
	rc, err := collection.ParseReadConsistency(q.Get("consistency"))
	if err != nil {
		return rc, badRequest("Query deserialize error: consistency: data did not match any variant of untagged enum ReadConsistency")
	}
	return rc, nil
}

// shardSelection is a parsed ShardKeySelector: no key (every shard for a
// read), one key, a list of keys, or a key with a fallback.
type shardSelection struct {
	keys     []collection.ShardKey // nil: none given
	fallback collection.ShardKey   // "" none
}

func (a shardSelection) equal(b shardSelection) bool {
	return a.fallback == b.fallback && (a.keys == nil) == (b.keys == nil) && slices.Equal(a.keys, b.keys)
}

// errShardKeySelector is serde's answer to a shard_key that is none of
// ShardKeySelector's variants (a key is a string or an unsigned integer).
var errShardKeySelector = formatError(errorString("shard_key: data did not match any variant of untagged enum ShardKeySelector"))

// parseShardKeySelector reads a body's shard_key: absent or null (none), a
// key, a list of keys, or {"target": key, "fallback": key}
// (ShardKeyWithFallback, both required).
func parseShardKeySelector(raw json.RawMessage) (shardSelection, error) {
	raw = bytes.TrimSpace(raw)
	if !isSet(raw) {
		return shardSelection{}, nil
	}
	switch raw[0] {
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return shardSelection{}, errShardKeySelector
		}
		keys := make([]collection.ShardKey, len(items))
		for i, item := range items {
			k, err := collection.ParseShardKey(item)
			if err != nil {
				return shardSelection{}, errShardKeySelector
			}
			keys[i] = k
		}
		return shardSelection{keys: keys}, nil
	case '{':
		var obj struct {
			Target   json.RawMessage `json:"target"`
			Fallback json.RawMessage `json:"fallback"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil || !isSet(obj.Target) || !isSet(obj.Fallback) {
			return shardSelection{}, errShardKeySelector
		}
		target, err := collection.ParseShardKey(obj.Target)
		if err != nil {
			return shardSelection{}, errShardKeySelector
		}
		fallback, err := collection.ParseShardKey(obj.Fallback)
		if err != nil {
			return shardSelection{}, errShardKeySelector
		}
		return shardSelection{keys: []collection.ShardKey{target}, fallback: fallback}, nil
	}
	k, err := collection.ParseShardKey(raw)
	if err != nil {
		return shardSelection{}, errShardKeySelector
	}
	return shardSelection{keys: []collection.ShardKey{k}}, nil
}

// shardKeyed is a request body with a shard_key field.
type shardKeyed interface {
	shardKeyRaw() json.RawMessage
}

// selectionOf parses the shard_key of a body that has one.
func selectionOf(in any) (shardSelection, error) {
	if sk, ok := in.(shardKeyed); ok {
		return parseShardKeySelector(sk.shardKeyRaw())
	}
	return shardSelection{}, nil
}

// withSelection returns ctx routed to the shards sel selects, keeping the
// ordering and consistency ctx already carries.
func withSelection(ctx context.Context, sel shardSelection) context.Context {
	r := collection.RoutingOf(ctx)
	r.ShardKeys, r.Fallback = sel.keys, sel.fallback
	return collection.WithRouting(ctx, r)
}

// runsOf cuts n items into maximal runs of consecutive items with equal
// selections: [start, end) pairs, in order.
func runsOf(sels []shardSelection) [][2]int {
	var out [][2]int
	for i := 0; i < len(sels); {
		j := i + 1
		for j < len(sels) && sels[j].equal(sels[i]) {
			j++
		}
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}

func (in *retrieveIn) shardKeyRaw() json.RawMessage { return in.ShardKey }
func (in *countIn) shardKeyRaw() json.RawMessage    { return in.ShardKey }
func (in *scrollIn) shardKeyRaw() json.RawMessage   { return in.ShardKey }
func (in *queryIn) shardKeyRaw() json.RawMessage    { return in.ShardKey }
func (in *searchIn) shardKeyRaw() json.RawMessage   { return in.ShardKey }
func (in *facetIn) shardKeyRaw() json.RawMessage    { return in.ShardKey }
func (in *upsertIn) shardKeyRaw() json.RawMessage   { return in.ShardKey }
func (in *selectorIn) shardKeyRaw() json.RawMessage { return in.ShardKey }
func (in *updateVectorsIn) shardKeyRaw() json.RawMessage {
	return in.ShardKey
}
