package payload

import (
	"encoding/json"
	"math"
	"strconv"
)

// Payload value conversions. They mirror the filter package's AsInteger
// and AsFloat (which this package may not import) so that an index and a
// payload scan agree on what a value is: an integer index takes JSON
// integers (serde_json's as_i64: "3" yes, "3.0" and "3e0" no, nothing
// outside int64; a Go float64 counts when integral), a float index takes
// every number (as_f64).

func asInteger(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		return i, err == nil
	case int:
		return int64(n), true
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint:
		return int64(n), uint64(n) <= math.MaxInt64
	case uint64:
		return int64(n), n <= math.MaxInt64
	case float64:
		if n != math.Trunc(n) || n < -(1<<63) || n >= 1<<63 {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}

// asFloat returns v as a float64 when it is a number; NaN is refused
// (JSON has none, and it would break the ordering).
func asFloat(v any) (float64, bool) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		var err error
		f, err = strconv.ParseFloat(string(n), 64)
		if err != nil && !math.IsInf(f, 0) {
			return 0, false
		}
	case float64:
		f = n
	case float32:
		f = float64(n)
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case int32:
		f = float64(n)
	case uint:
		f = float64(n)
	case uint64:
		f = float64(n)
	case uint32:
		f = float64(n)
	default:
		return 0, false
	}
	return f, !math.IsNaN(f)
}
