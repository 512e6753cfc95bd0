package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// usize is a size from a request (limit, offset, hnsw_ef) that Qdrant types
// as Rust's usize: any JSON integer from 0 to 2^64-1 is valid input, and a
// huge one is answered with what exists. Anything else is refused with
// serde's words ("invalid value: integer `-1`, expected usize"). The value
// never sizes an allocation directly: use int(), which saturates, and cap
// it by what exists before allocating.
type usize struct {
	set bool
	n   uint64
}

func (u *usize) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" { // Option<usize>: null is None
		*u = usize{}
		return nil
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return errorString(serdeUnexpected(b) + ", expected usize")
	}
	*u = usize{set: true, n: n}
	return nil
}

// int returns the size as an int, saturated at math.MaxInt.
func (u usize) int() int {
	if u.n > math.MaxInt {
		return math.MaxInt
	}
	return int(u.n)
}

// or returns the size, or def when it was not given.
func (u usize) or(def int) int {
	if !u.set {
		return def
	}
	return u.int()
}

// serdeUnexpected describes a JSON value that is not a usize as serde's
// Unexpected does: "invalid value: integer `-1`" for a negative integer,
// "invalid type: floating point `1000000000000.0`" for a float literal or
// an integer beyond 64 bits (serde_json parses those as f64).
func serdeUnexpected(b []byte) string {
	if len(b) == 0 {
		return "invalid type: unit value"
	}
	switch b[0] {
	case '"':
		var s string
		if json.Unmarshal(b, &s) == nil {
			return "invalid type: string " + strconv.Quote(s)
		}
	case 't', 'f':
		return "invalid type: boolean `" + string(b) + "`"
	case '[':
		return "invalid type: sequence"
	case '{':
		return "invalid type: map"
	}
	text := string(b)
	if !strings.ContainsAny(text, ".eE") {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return fmt.Sprintf("invalid value: integer `%d`", n)
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !math.IsInf(f, 0) {
		return "invalid type: " + text
	}
	return "invalid type: floating point `" + rustFloat(f) + "`"
}

// rustFloat formats f as Rust's Display does in serde's messages: all
// digits, no exponent, ".0" when there is no fractional part.
func rustFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "NaN"
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// maxBatchResults bounds the results one batch request may produce in all,
// beyond the points of the collection (which a single search may return).
// Each search's results are bounded by what exists, but a 32 MB batch can
// hold a million searches, each asking for every point: without a bound,
// one request could hold millions of points in memory many times over.
const maxBatchResults = 1 << 18

// batchBudget counts the results of a batch as its searches run.
type batchBudget struct {
	left int
	max  int
}

func newBatchBudget(points int) *batchBudget {
	n := max(points, maxBatchResults)
	return &batchBudget{left: n, max: n}
}

// spend takes n results from the budget, or fails once it is exhausted.
func (b *batchBudget) spend(n int) error {
	b.left -= n
	if b.left < 0 {
		return badRequest("Bad request: the batch would return more than %d points in all; split it into smaller batches or lower the limits", b.max)
	}
	return nil
}
