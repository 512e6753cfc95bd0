// Package openapitest checks HTTP responses against Qdrant's REST contract,
// the OpenAPI 3.0 document Qdrant releases as openapi.json. It is imported
// only by _test.go files (and by cmd/specstatus, which scripts/test.sh runs
// to print where the document came from).
//
// The document is found once per process (load.go): $SHOAL_OPENAPI when set;
// else ../shared/qdrant/openapi.json beside the repository; else the file at
// Qdrant's release tag, downloaded (bounded in time and size), checked
// against the sha256 pinned in fetch.go and cached under the user's cache
// directory. When none of these works (a machine without network, or a
// download with other bytes, which is never used) Load returns a Spec that
// validates nothing and prints one line on stderr saying so and why, so the
// callers' own assertions still run on a plain clone;
// $SHOAL_OPENAPI_REQUIRED=1 makes that a failure instead.
//
// The document is converted from OpenAPI 3.0 to JSON Schema 2020-12
// (nullable, example, boolean exclusiveMinimum, ...) and registered with a
// single compiler; the schema of each (operation, status) pair is compiled
// the first time it is needed and cached. A concrete request path is matched
// to the spec's templates with literal segments winning over parameters, the
// way Qdrant's router resolves /collections/aliases before
// /collections/{collection_name}. Endpoints that Qdrant still serves but
// that the 1.19 document no longer lists (points/search, points/recommend,
// ...) come from a small table of legacy routes built from the component
// schemas.
//
// A *Spec is safe for concurrent use: the converted document is read-only
// after Load and the compile cache is guarded by a mutex.
package openapitest
