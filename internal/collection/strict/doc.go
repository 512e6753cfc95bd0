// Package strict is Qdrant's strict mode: a collection's strict_mode_config
// (Config: parsed, validated, merged by PATCH, written back in Qdrant's
// shape) and its enforcement on the engine's request vocabulary (ops), so
// that every API (REST, gRPC) that hands the collection an ops value gets
// the same refusals with Qdrant's texts.
//
// A Guard holds one collection's configuration and its two token buckets
// (read_rate_limit, write_rate_limit: tokens per minute, a full bucket to
// start, a request costing what Qdrant charges for it). Its checks take the
// request and Facts, the little the checks need to know of the collection
// (payload indexes, HNSW settings, sizes, a filter's estimated
// cardinality), asked for only when a configured key needs it. Nothing is
// checked while `enabled` is not true.
//
// Refusals are errors of three kinds, as in Qdrant:
//
//   - *Error: a request strict mode forbids (CollectionError::StrictMode,
//     "Forbidden: <problem>. Help: <solution>", HTTP 403).
//   - *RateLimitError: a rate limit's bucket lacks the tokens ("Rate
//     limiting exceeded: ...", HTTP 429, RetryAfter for the Retry-After
//     header).
//   - a point.Error of KindBadRequest: a collection size limit reached
//     (max_points_count, max_collection_vector_size_bytes,
//     max_collection_payload_size_bytes) or a sparse vector or multivector
//     longer than its limit ("Bad request: ...", HTTP 400).
//
// Time comes from the clock given to NewGuard and resident memory from the
// given reader, so that tests drive the buckets without sleeping.
//
// A Guard is safe for concurrent use: its configuration is swapped whole
// under its mutex and read-only afterwards; the buckets and the size cache
// are guarded by the same mutex.
package strict
