// Package openapitest checks HTTP responses against Qdrant's REST contract,
// the OpenAPI 3.0 document kept at ../shared/qdrant/openapi.json beside the
// repository (or at $SHOAL_OPENAPI). It is imported only by _test.go files.
//
// The document is read, converted from OpenAPI 3.0 to JSON Schema 2020-12
// (nullable, example, boolean exclusiveMinimum, ...) and registered with a
// single compiler once per process; the schema of each (operation, status)
// pair is compiled the first time it is needed and cached. A concrete request
// path is matched to the spec's templates with literal segments winning over
// parameters, the way Qdrant's router resolves /collections/aliases before
// /collections/{collection_name}. Endpoints that Qdrant still serves but that
// the 1.19 document no longer lists (points/search, points/recommend, ...)
// come from a small table of legacy routes built from the component schemas.
//
// A *Spec is safe for concurrent use: the converted document is read-only
// after Load and the compile cache is guarded by a mutex.
package openapitest
