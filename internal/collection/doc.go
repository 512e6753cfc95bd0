// Package collection owns a collection: its configuration (in Qdrant's wire
// shape, so that it is stored and echoed back as given), its local shards,
// the validation of points against the vector configuration, and the read
// paths (retrieve, scroll, count, facet, search through the HNSW graphs or
// exactly, search by sparse vector with Qdrant's idf modifier: sparse.go)
// merged over shards.
//
// Multivectors (a dense vector with multivector_config, multi.go) travel
// flattened below the APIs: a point's vector is any positive multiple of
// the vector's size, each sub-vector normalised on its own for Cosine, and
// searches score max_sim. An API that reads nested lists flattens them and
// asks CheckVectorShape first (the flat form forgets the nesting); it
// nests what it returns by Multivectors.
//
// Every read takes a context first. A read under way when its context is
// done stops within a bounded amount of work (the segments and the graph
// walks look at it every thousand or so points or distance evaluations,
// Retrieve every checkEvery ids) and returns the context's error wrapped
// with the read's name, so that errors.Is(err, context.DeadlineExceeded)
// or context.Canceled tells the API layers why; a read whose context is
// done before it starts returns at once.
//
// It takes the engine's vocabulary (package ops): update operations and
// read requests arrive as ops values, whichever API built them, and are
// converted here and in the shard to the engine's own types (quantization
// search params, payload index schemas). It re-exports what the APIs need
// to answer without importing the shard (ErrClosed, OutOfDiskError,
// Distance).
//
// Strict mode (package strict) is enforced here, below every API: each
// read and write method starts with its Guard's check on the ops request
// (strict_mode_config's limits, then the read or write rate limit), and the
// configuration takes effect on Open and on every SetConfig. A read that is
// part of a larger request already checked (a query served by a search,
// the searches of SearchBatch and QueryBatch) carries a context mark and is
// neither checked nor charged again. The client's own timeout reaches the
// check through ops.WithTimeout.
//
// A Collection is safe for concurrent use. Its configuration is guarded by
// its own lock; data consistency is the shard's business.
package collection
