package payload

import "github.com/shoaldb/shoal/internal/filter"

// Payload value conversions are the filter package's, so that an index and
// a payload scan agree on what a value is: an integer index takes JSON
// integers (serde_json's as_i64), a float index takes every number.
func asInteger(v any) (int64, bool) { return filter.AsInteger(v) }

func asFloat(v any) (float64, bool) { return filter.AsFloat(v) }
