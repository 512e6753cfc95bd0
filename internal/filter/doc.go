// Package filter owns Qdrant's payload filter: the AST (Filter and its
// Conditions), parsing and validating the REST JSON form, serialising it
// back, and evaluating it against one point (Filter.MatchesPoint, or
// Filter.Matches when the caller has no vectors).
//
// Evaluation follows Qdrant's query_checker and condition_checker: a
// missing must/should/must_not clause is ignored, an empty `must` and an
// empty `must_not` match everything, an empty `should` matches nothing;
// a field condition holds when any value at its key path matches, a value
// that is an array is matched element by element (one level), integers
// match only integers, keywords only strings. It is the index-free
// meaning of every condition; where Qdrant answers differently from a
// payload index (full-text matches are tokenized by a text index, a
// datetime index stores microseconds) the condition's comment says so.
// See the comments on each condition type for the details, including the
// surprising ones.
//
// The AST is exported so that a query planner in another package can
// walk it and answer conditions from payload indexes: FieldCondition.Kind
// names the test a field condition performs and its members carry the
// operands; GeoBoundingBox, GeoRadius, GeoPolygon, DatetimeRange and
// ValuesCount expose their tests; ParseGeoPoint and ParseDateTime read
// payload values the way the checker does.
//
// A parsed Filter is immutable and safe for concurrent use by any number of
// goroutines; key paths, id sets, value sets and datetime bounds are built
// once by Parse, so MatchesPoint does not allocate. Filters built by hand
// should be checked with Validate before use.
package filter
