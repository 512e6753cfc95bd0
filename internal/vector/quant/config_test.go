package quant

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParseConfig(t *testing.T) {
	cases := []struct {
		in    string
		check func(*Config) bool
		out   string // MarshalJSON of the result; "" for in itself
		err   string // "parse", "validation" or ""
	}{
		{in: `null`, check: func(c *Config) bool { return c == nil }},
		{in: ``, check: func(c *Config) bool { return c == nil }},
		{in: `{"scalar":{"type":"int8"}}`, check: func(c *Config) bool { return c.Kind == Scalar && c.Quantile == nil }},
		{in: `{"scalar":{"type":"int8","quantile":0.99,"always_ram":true}}`,
			check: func(c *Config) bool { return *c.Quantile == 0.99 && *c.AlwaysRAM }},
		{in: `{"scalar":{"type":"int8","quantile":0.5,"memory":"pinned"}}`, check: func(c *Config) bool { return *c.Memory == "pinned" }},
		{in: `{"scalar":{"type":"int8","quantile":1}}`, out: `{"scalar":{"quantile":1,"type":"int8"}}`},
		{in: `{"scalar":{"type":"int8","quantile":null,"always_ram":null,"extra":1}}`, out: `{"scalar":{"type":"int8"}}`},
		{in: `{"product":{"compression":"x16"}}`, check: func(c *Config) bool { return c.Kind == Product && c.chunkDims() == 4 }},
		{in: `{"product":{"compression":"x64","always_ram":false}}`, check: func(c *Config) bool { return c.chunkDims() == 16 }},
		{in: `{"binary":{}}`, check: func(c *Config) bool { return c.binaryEncoding() == OneBit && c.queryBits() == 0 }},
		{in: `{"binary":{"encoding":"one_and_half_bits","query_encoding":"scalar4bits","always_ram":true}}`,
			check: func(c *Config) bool { return c.binaryEncoding() == OneAndHalfBits && c.queryBits() == 4 }},
		{in: `{"binary":{"encoding":"two_bits","query_encoding":"default"}}`, check: func(c *Config) bool { return c.queryBits() == 0 }},
		{in: `{"turbo":{"bits":"bits4"}}`, check: func(c *Config) bool { return c.Kind == Turbo }},
		{in: `{"scalar":{"type":"int8","quantile":0.3}}`, err: "validation"},
		{in: `{"scalar":{"type":"int8","quantile":1.5}}`, err: "validation"},
		{in: `{"scalar":{"type":"int16"}}`, err: "parse"},
		{in: `{"scalar":{}}`, err: "parse"},
		{in: `{"scalar":{"type":"int8","quantile":"high"}}`, err: "parse"},
		{in: `{"scalar":{"type":"int8","always_ram":1}}`, err: "parse"},
		{in: `{"scalar":{"type":"int8","memory":"hot"}}`, err: "parse"},
		{in: `{"scalar":null}`, err: "parse"},
		{in: `{"product":{"compression":"x2"}}`, err: "parse"},
		{in: `{"product":{}}`, err: "parse"},
		{in: `{"binary":{"encoding":"three_bits"}}`, err: "parse"},
		{in: `{"binary":{"query_encoding":"scalar2bits"}}`, err: "parse"},
		{in: `{"hnsw":{}}`, err: "parse"},
		{in: `{}`, err: "parse"},
		{in: `"Disabled"`, err: "parse"},
		{in: `[1]`, err: "parse"},
		{in: `{"scalar":`, err: "parse"},
	}
	for _, tc := range cases {
		c, err := ParseConfig(json.RawMessage(tc.in))
		var ce *ConfigError
		var ve *ValidationError
		switch tc.err {
		case "parse":
			if !errors.As(err, &ce) || !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("%s: err = %v, want a ConfigError", tc.in, err)
			} else if ce.Error() != "data did not match any variant of untagged enum QuantizationConfig" || ce.Reason == "" {
				t.Errorf("%s: text %q, reason %q", tc.in, ce.Error(), ce.Reason)
			}
			continue
		case "validation":
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidConfig) || ve.Field != "scalar.quantile" {
				t.Errorf("%s: err = %v, want a ValidationError on scalar.quantile", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if tc.check != nil && !tc.check(c) {
			t.Errorf("%s: parsed as %+v", tc.in, c)
		}
		if c == nil {
			continue
		}
		got, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		want := tc.out
		if want == "" {
			want = tc.in
		}
		if !jsonEqual(t, got, []byte(want)) {
			t.Errorf("%s: marshals to %s, want %s", tc.in, got, want)
		}
	}
}

func TestValidationText(t *testing.T) {
	for in, want := range map[string]string{
		`{"scalar":{"type":"int8","quantile":0.3}}`: "scalar.quantile: value 0.3 invalid, must be 0.5 or larger",
		`{"scalar":{"type":"int8","quantile":2}}`:   "scalar.quantile: value 2 invalid, must be 1.0 or smaller",
	} {
		if _, err := ParseConfig(json.RawMessage(in)); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		t.Fatalf("bad JSON %s / %s", a, b)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

func TestSearchParams(t *testing.T) {
	binary, scalar := mustConfig(t, `{"binary":{}}`), mustConfig(t, `{"scalar":{"type":"int8"}}`)
	cases := []struct {
		in                     string
		limit, candidates      int
		rescoreBinary, rescore bool // resolved against binary, scalar
		err                    bool
	}{
		{in: `null`, limit: 10, candidates: 10, rescoreBinary: true},
		{in: `{}`, limit: 10, candidates: 10, rescoreBinary: true},
		{in: `{"oversampling":2.4}`, limit: 100, candidates: 240, rescoreBinary: true},
		{in: `{"oversampling":1.5,"rescore":false}`, limit: 3, candidates: 4}, // rounded down, as Qdrant
		{in: `{"rescore":true,"ignore":true}`, limit: 3, candidates: 3, rescoreBinary: true, rescore: true},
		{in: `{"oversampling":0.5}`, err: true},
		{in: `{"rescore":"yes"}`, err: true},
		{in: `[]`, err: true},
	}
	for _, tc := range cases {
		p, err := ParseSearchParams(json.RawMessage(tc.in))
		if tc.err {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("%s: err = %v", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if got := p.Candidates(tc.limit); got != tc.candidates {
			t.Errorf("%s: Candidates(%d) = %d, want %d", tc.in, tc.limit, got, tc.candidates)
		}
		if p.ShouldRescore(binary) != tc.rescoreBinary || p.ShouldRescore(scalar) != tc.rescore {
			t.Errorf("%s: ShouldRescore binary %v scalar %v", tc.in, p.ShouldRescore(binary), p.ShouldRescore(scalar))
		}
	}
	var none *Config
	if none.DefaultRescore() {
		t.Error("no quantization rescores")
	}
	// Turbo rescores by default below 4 bits (Qdrant's
	// tq_bits_default_rescoring).
	for cfg, want := range map[string]bool{
		`{"turbo":{}}`: false, `{"turbo":{"bits":"bits4"}}`: false, `{"turbo":{"bits":"bits2"}}`: true,
		`{"turbo":{"bits":"bits1_5"}}`: true, `{"turbo":{"bits":"bits1"}}`: true,
	} {
		if got := mustConfig(t, cfg).DefaultRescore(); got != want {
			t.Errorf("%s: DefaultRescore %v, want %v", cfg, got, want)
		}
	}
}
