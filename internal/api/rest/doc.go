// Package rest serves Qdrant's REST API (Qdrant 1.19's openapi.json) over
// net/http: it decodes and validates requests into the engine's vocabulary
// (package ops: update operations, read requests, field schemas) and the
// plain Go types of node and collection, and writes Qdrant's envelopes:
// {"result", "status": "ok", "time"} on success and
// {"status": {"error"}, "time"} on failure, with Qdrant's status codes and
// error texts, mapped in one place (errors.go).
//
// Sizes from requests (limit, offset, hnsw_ef, ...) are usize values as in
// Qdrant (sizes.go): a huge one is valid and answered with what exists, and
// nothing is allocated from the raw number. Bodies pass point.CheckText
// before they are decoded, and an answer is encoded before its status line
// is sent.
//
// Multivectors ([[...], ...]) are flattened on the way in, after Qdrant's
// validation of the nested lists, and every dense vector is held to the
// collection's shapes before the operation or query goes on; they are
// nested again on the way out (multi.go).
//
// Reads run under the request's context, so a client that leaves stops
// its read, bounded by ?timeout= seconds or Options.SearchTimeout
// (readtimeout.go); a read its deadline stops answers Qdrant's 408
// "Timeout: Timeout error: Operation '...' timed out after ...".
//
// Access (open, read, write) is written beside each route in the route
// table (server.go) and decided on the route a request matched (access.go),
// never on the path's text. A request no route serves (or a known path
// with another method) answers 404 in the error envelope.
//
// Every response is counted per route (Qdrant's name for it, "GET
// /collections/{name}") and status with Qdrant's duration statistics
// (requests.go); /telemetry (telemetry.go, by details_level, anonymize.go)
// and Qdrant's families of /metrics (metrics.go) are computed from them and
// from the node at each call, next to Shoal's own Prometheus registry.
//
// PUT and DELETE /collections/{name}/vectors/{vector} (vectors.go) change
// a collection's configuration, through consensus in a cluster, and answer
// Qdrant's UpdateResult without an operation number.
//
// Routing parameters (routing.go) reach the collection in the request's
// context (collection.WithRouting): ?ordering= of every update, ?consistency=
// of every read, and the shard_key of the bodies (Qdrant's
// ShardKeySelector: a key, a list, or {"target", "fallback"}). A batch's
// items carry their own shard_key: its consecutive items that select the
// same shards run as one batch. Shard keys are created, listed and dropped
// under /collections/{name}/shards, and GET /collections/{name}/cluster
// describes where a collection's shards live (shardkeys.go).
//
// Snapshots (snapshots.go, snapshots_shard.go): collection, shard and
// full-storage snapshot routes as Qdrant's; wait=false answers 202 and the
// work goes on in the background; downloads stream the file; uploads are
// multipart, streamed to disk.//
// Handlers hold no state beyond the Server's dependencies and are safe for
// concurrent use.
package rest
