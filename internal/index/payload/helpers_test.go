package payload

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"testing"
)

// testSeed returns the seed of the random tests: a fixed default, or
// SHOAL_TEST_SEED to try another one. It is logged.
func testSeed(t testing.TB) uint64 {
	t.Helper()
	seed := uint64(20261125)
	if v := os.Getenv("SHOAL_TEST_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SHOAL_TEST_SEED: %v", err)
		}
		seed = n
	}
	t.Logf("seed %d", seed)
	return seed
}

func mustSchema(t testing.TB, js string) Schema {
	t.Helper()
	s, err := ParseSchema(json.RawMessage(js))
	if err != nil {
		t.Fatalf("ParseSchema(%s): %v", js, err)
	}
	return s
}

// roundTrip encodes x and decodes it back.
func roundTrip(t testing.TB, x Index) Index {
	t.Helper()
	var buf bytes.Buffer
	if err := x.Encode(&buf); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	y, err := Decode(x.Schema(), &buf)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if y.Points() != x.Points() || y.Values() != x.Values() {
		t.Fatalf("round trip: points %d/%d values %d/%d", y.Points(), x.Points(), y.Values(), x.Values())
	}
	return y
}

func offs(p *Postings) []uint32 {
	out := p.ToArray()
	if out == nil {
		out = []uint32{}
	}
	return out
}

func num(s string) json.Number { return json.Number(s) }

func fptr(f float64) *float64 { return &f }
func iptr(i int64) *int64     { return &i }
