// Package collection owns a collection: its configuration (in Qdrant's wire
// shape, so that it is stored and echoed back as given), its local shards,
// the validation of points against the vector configuration, and the read
// paths (retrieve, scroll, count, exact search) merged over shards.
//
// A Collection is safe for concurrent use. Its configuration is guarded by
// its own lock; data consistency is the shard's business.
package collection
