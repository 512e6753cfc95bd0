// Package filter owns Qdrant's payload filter: the AST (Filter and its
// Conditions), parsing and validating the REST JSON form, serialising it
// back, and evaluating it against one point (Filter.Matches).
//
// Evaluation follows Qdrant's query_checker and condition_checker exactly:
// a missing must/should/must_not clause is ignored, an empty `must` and an
// empty `must_not` match everything, an empty `should` matches nothing;
// a field condition holds when any value at its key path matches, a value
// that is an array is matched element by element (one level), integers
// match only integers, keywords only strings. See the comments on each
// condition type for the details, including the surprising ones.
//
// A parsed Filter is immutable and safe for concurrent use by any number of
// goroutines; key paths, id sets and value sets are built once by Parse, so
// Matches does not allocate. Filters built by hand should be checked with
// Validate before use.
//
// Conditions this package recognises but cannot evaluate yet (nested,
// has_vector, slice, geo_*, values_count, full-text match, datetime range)
// make Parse fail with an error wrapping ErrUnsupported; they slot in as new
// Condition types or new FieldCondition members.
package filter
