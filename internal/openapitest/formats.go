package openapitest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The spec tags numbers with Rust's types (uint64, uint, uint32, uint8,
// int64, float, double). Unknown formats are ignored by the validator even
// with assertion on, so float and double cost nothing; the integer ones are
// registered as range checks, which catches a negative count or an id past
// 2^64 that `minimum: 0` alone would not.
func registerFormats(c *jsonschema.Compiler) {
	maxU := func(bits uint) *big.Int {
		return new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), bits), big.NewInt(1))
	}
	minI := func(bits uint) *big.Int { return new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), bits-1)) }
	maxI := func(bits uint) *big.Int { return maxU(bits - 1) }
	zero := big.NewInt(0)
	for _, f := range []struct {
		name     string
		min, max *big.Int
	}{
		{"uint8", zero, maxU(8)},
		{"uint16", zero, maxU(16)},
		{"uint32", zero, maxU(32)},
		{"uint64", zero, maxU(64)},
		{"uint", zero, maxU(64)}, // usize on the 64-bit targets Qdrant ships
		{"int8", minI(8), maxI(8)},
		{"int16", minI(16), maxI(16)},
		{"int32", minI(32), maxI(32)},
		{"int64", minI(64), maxI(64)},
	} {
		c.RegisterFormat(&jsonschema.Format{Name: f.name, Validate: intRange(f.name, f.min, f.max)})
	}
	c.RegisterFormat(&jsonschema.Format{Name: "partial-date-time", Validate: validatePartialDateTime})
}

// intRange checks that an integral number fits the named Rust type. Values
// that are not integral numbers are left to the `type` keyword.
func intRange(name string, lo, hi *big.Int) func(any) error {
	return func(v any) error {
		var r *big.Rat
		switch n := v.(type) {
		case json.Number:
			var ok bool
			if r, ok = new(big.Rat).SetString(string(n)); !ok {
				return nil
			}
		case float64:
			if math.IsInf(n, 0) || math.IsNaN(n) {
				return nil
			}
			r = new(big.Rat).SetFloat64(n)
		case int:
			r = new(big.Rat).SetInt64(int64(n))
		case int64:
			r = new(big.Rat).SetInt64(n)
		default:
			return nil
		}
		if !r.IsInt() {
			return nil
		}
		if i := r.Num(); i.Cmp(lo) < 0 || i.Cmp(hi) > 0 {
			return fmt.Errorf("%s out of %s range [%s, %s]", i, name, lo, hi)
		}
		return nil
	}
}

// validatePartialDateTime accepts a date-time without a zone offset, which
// is how Qdrant writes a snapshot's creation_time (a chrono NaiveDateTime).
func validatePartialDateTime(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	if _, err := time.Parse("2006-01-02T15:04:05.999999999", s); err != nil {
		return fmt.Errorf("not a partial date-time (YYYY-MM-DDThh:mm:ss[.frac]): %w", err)
	}
	return nil
}
