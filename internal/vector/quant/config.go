package quant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Kind names a quantization method by its key in QuantizationConfig.
type Kind string

// The quantization methods of QuantizationConfig.
const (
	Scalar  Kind = "scalar"
	Product Kind = "product"
	Binary  Kind = "binary"
	// Turbo is TurboQuant (turbo.go).
	Turbo Kind = "turbo"
)

// BinaryEncoding is BinaryQuantizationEncoding: bits per stored dimension.
type BinaryEncoding string

// The stored encodings of binary quantization.
const (
	OneBit         BinaryEncoding = "one_bit"
	TwoBits        BinaryEncoding = "two_bits"
	OneAndHalfBits BinaryEncoding = "one_and_half_bits"
)

// QueryEncoding is BinaryQuantizationQueryEncoding: how a query is encoded
// before it meets binary codes. "default" and "binary" encode the query like
// the stored vectors; scalar4bits and scalar8bits keep 4 or 8 bits per
// dimension of the query (asymmetric search: slower, more accurate).
type QueryEncoding string

// The query encodings of binary quantization.
const (
	QueryDefault     QueryEncoding = "default"
	QueryBinary      QueryEncoding = "binary"
	QueryScalar4Bits QueryEncoding = "scalar4bits"
	QueryScalar8Bits QueryEncoding = "scalar8bits"
)

// Config is a parsed QuantizationConfig. Exactly the fields of Kind are
// meaningful; the pointers are nil when the wire value was absent or null,
// so MarshalJSON gives back what was sent (minus unknown keys).
type Config struct {
	Kind Kind

	// AlwaysRAM (deprecated on the wire) and Memory ("cold", "cached",
	// "pinned") only tell the caller where to keep the codes.
	AlwaysRAM *bool
	Memory    *string

	// Scalar: Type is always "int8". Quantile in [0.5, 1]; nil means the
	// whole range of values (no outliers clipped).
	Quantile *float32

	// Product: one of x4, x8, x16, x32, x64.
	Compression string

	// Binary.
	Encoding      *BinaryEncoding
	QueryEncoding *QueryEncoding

	// Turbo: bits1, bits1_5, bits2 or bits4; nil means bits4.
	TurboBits *string
}

// ErrInvalidConfig marks every error of ParseConfig.
var ErrInvalidConfig = errors.New("invalid quantization config")

// ConfigError is a QuantizationConfig that does not parse. Its text is the
// serde error Qdrant gives for its untagged enum (HTTP 400 "Json deserialize
// error"); Reason says what was actually wrong.
type ConfigError struct{ Reason string }

func (e *ConfigError) Error() string {
	return "data did not match any variant of untagged enum QuantizationConfig"
}

// Unwrap lets errors.Is(err, ErrInvalidConfig) hold.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// ValidationError is a config that parses but is out of range (Qdrant's
// validator, HTTP 422). Field is relative to the config, e.g.
// "scalar.quantile"; callers prefix it with their own path.
type ValidationError struct{ Field, Message string }

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// Unwrap lets errors.Is(err, ErrInvalidConfig) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalidConfig }

func configErrorf(format string, args ...any) error {
	return &ConfigError{Reason: fmt.Sprintf(format, args...)}
}

// ParseConfig parses a QuantizationConfig. Null or absent gives (nil, nil).
// As with serde, unknown keys are ignored and null means absent; the first
// of scalar, product, binary, turbo present in the object decides the kind.
// Errors wrap ErrInvalidConfig: *ConfigError for malformed input,
// *ValidationError for a quantile outside [0.5, 1].
func ParseConfig(raw json.RawMessage) (*Config, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var top map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &top) != nil {
		return nil, configErrorf("expected an object with one of scalar, product, binary, turbo")
	}
	for _, k := range []Kind{Scalar, Product, Binary, Turbo} {
		body, ok := top[string(k)]
		if !ok {
			continue
		}
		var f map[string]json.RawMessage
		body = bytes.TrimSpace(body)
		if len(body) == 0 || body[0] != '{' || json.Unmarshal(body, &f) != nil {
			return nil, configErrorf("%s: expected an object", k)
		}
		return parseKind(k, f)
	}
	return nil, configErrorf("expected one of scalar, product, binary, turbo")
}

func parseKind(k Kind, f map[string]json.RawMessage) (*Config, error) {
	c := &Config{Kind: k}
	var err error
	if c.AlwaysRAM, err = optional[bool](f, "always_ram"); err != nil {
		return nil, configErrorf("%s.always_ram: %v", k, err)
	}
	if c.Memory, err = optionalEnum[string](f, "memory", "cold", "cached", "pinned"); err != nil {
		return nil, configErrorf("%s.memory: %v", k, err)
	}
	switch k {
	case Scalar:
		t, err := optionalEnum[string](f, "type", "int8")
		if err != nil {
			return nil, configErrorf("scalar.type: %v", err)
		}
		if t == nil {
			return nil, configErrorf("scalar: missing field `type`")
		}
		if c.Quantile, err = optional[float32](f, "quantile"); err != nil {
			return nil, configErrorf("scalar.quantile: %v", err)
		}
		if q := c.Quantile; q != nil && (*q < 0.5 || *q > 1) {
			bound := "0.5 or larger"
			if *q > 1 {
				bound = "1.0 or smaller"
			}
			v := strconv.FormatFloat(float64(*q), 'g', -1, 32)
			return nil, &ValidationError{Field: "scalar.quantile", Message: "value " + v + " invalid, must be " + bound}
		}
	case Product:
		comp, err := optionalEnum[string](f, "compression", "x4", "x8", "x16", "x32", "x64")
		if err != nil {
			return nil, configErrorf("product.compression: %v", err)
		}
		if comp == nil {
			return nil, configErrorf("product: missing field `compression`")
		}
		c.Compression = *comp
	case Binary:
		if c.Encoding, err = optionalEnum[BinaryEncoding](f, "encoding", OneBit, TwoBits, OneAndHalfBits); err != nil {
			return nil, configErrorf("binary.encoding: %v", err)
		}
		if c.QueryEncoding, err = optionalEnum[QueryEncoding](f, "query_encoding",
			QueryDefault, QueryBinary, QueryScalar4Bits, QueryScalar8Bits); err != nil {
			return nil, configErrorf("binary.query_encoding: %v", err)
		}
	case Turbo:
		if c.TurboBits, err = optionalEnum[string](f, "bits", "bits1", "bits1_5", "bits2", "bits4"); err != nil {
			return nil, configErrorf("turbo.bits: %v", err)
		}
	}
	return c, nil
}

// optional decodes f[key] into a *T, nil when absent or null.
func optional[T any](f map[string]json.RawMessage, key string) (*T, error) {
	raw, ok := f[key]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, fmt.Errorf("invalid type: %v", err)
	}
	return v, nil
}

// optionalEnum is optional for a string enum, with serde's unknown-variant
// text.
func optionalEnum[T ~string](f map[string]json.RawMessage, key string, allowed ...T) (*T, error) {
	v, err := optional[T](f, key)
	if err != nil || v == nil {
		return v, err
	}
	for _, a := range allowed {
		if *v == a {
			return v, nil
		}
	}
	names := ""
	for i, a := range allowed {
		if i > 0 {
			names += ", "
		}
		names += "`" + string(a) + "`"
	}
	return nil, fmt.Errorf("unknown variant `%s`, expected one of %s", string(*v), names)
}

// MarshalJSON writes the config in QuantizationConfig's wire shape, leaving
// out the optional fields that were absent.
func (c *Config) MarshalJSON() ([]byte, error) {
	body := map[string]any{}
	if c.AlwaysRAM != nil {
		body["always_ram"] = *c.AlwaysRAM
	}
	if c.Memory != nil {
		body["memory"] = *c.Memory
	}
	switch c.Kind {
	case Scalar:
		body["type"] = "int8"
		if c.Quantile != nil {
			body["quantile"] = *c.Quantile
		}
	case Product:
		body["compression"] = c.Compression
	case Binary:
		if c.Encoding != nil {
			body["encoding"] = *c.Encoding
		}
		if c.QueryEncoding != nil {
			body["query_encoding"] = *c.QueryEncoding
		}
	case Turbo:
		if c.TurboBits != nil {
			body["bits"] = *c.TurboBits
		}
	default:
		return nil, fmt.Errorf("quant: unknown kind %q", c.Kind)
	}
	return json.Marshal(map[string]any{string(c.Kind): body})
}

// binaryEncoding returns the stored encoding, one_bit when unset.
func (c *Config) binaryEncoding() BinaryEncoding {
	if c.Encoding == nil {
		return OneBit
	}
	return *c.Encoding
}

// queryBits is the bits per query dimension: 0 for a binary query encoded
// like the stored vectors, else 4 or 8.
func (c *Config) queryBits() int {
	if c.QueryEncoding == nil {
		return 0
	}
	switch *c.QueryEncoding {
	case QueryScalar4Bits:
		return 4
	case QueryScalar8Bits:
		return 8
	}
	return 0
}

// chunkDims is the PQ sub-vector length: one code byte replaces chunkDims
// float32s, so x4 is one dimension per byte and x64 sixteen.
func (c *Config) chunkDims() int {
	switch c.Compression {
	case "x8":
		return 2
	case "x16":
		return 4
	case "x32":
		return 8
	case "x64":
		return 16
	}
	return 1
}

// DefaultRescore reports whether a search rescores with the original
// vectors when QuantizationSearchParams.rescore is unset: Qdrant does so
// for binary quantization and for turbo below 4 bits
// (tq_bits_default_rescoring).
func (c *Config) DefaultRescore() bool {
	return c != nil && (c.Kind == Binary || c.Kind == Turbo && c.turboBitsOf() != 4)
}

// SearchParams is a parsed QuantizationSearchParams.
type SearchParams struct {
	// Ignore searches the original vectors only.
	Ignore bool
	// Rescore nil means Config.DefaultRescore.
	Rescore *bool
	// Oversampling is at least 1; nil means 1.
	Oversampling *float64
}

// ParseSearchParams parses QuantizationSearchParams; null or absent gives
// (nil, nil). Errors wrap ErrInvalidConfig: *ValidationError for
// oversampling below 1, a plain error for a wrong JSON type.
func ParseSearchParams(raw json.RawMessage) (*SearchParams, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var f map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &f) != nil {
		return nil, fmt.Errorf("%w: quantization: expected an object", ErrInvalidConfig)
	}
	p := &SearchParams{}
	ignore, err := optional[bool](f, "ignore")
	if err != nil {
		return nil, fmt.Errorf("%w: quantization.ignore: %v", ErrInvalidConfig, err)
	}
	p.Ignore = ignore != nil && *ignore
	if p.Rescore, err = optional[bool](f, "rescore"); err != nil {
		return nil, fmt.Errorf("%w: quantization.rescore: %v", ErrInvalidConfig, err)
	}
	if p.Oversampling, err = optional[float64](f, "oversampling"); err != nil {
		return nil, fmt.Errorf("%w: quantization.oversampling: %v", ErrInvalidConfig, err)
	}
	if o := p.Oversampling; o != nil && !(*o >= 1) {
		v := strconv.FormatFloat(*o, 'g', -1, 64)
		return nil, &ValidationError{Field: "oversampling", Message: "value " + v + " invalid, must be 1.0 or larger"}
	}
	return p, nil
}

// ShouldRescore resolves Rescore against the collection's config; p may be
// nil.
func (p *SearchParams) ShouldRescore(c *Config) bool {
	if p != nil && p.Rescore != nil {
		return *p.Rescore
	}
	return c.DefaultRescore()
}

// Candidates is how many points to take by quantized score before
// rescoring a search for limit results: limit times the oversampling,
// rounded down as Qdrant's get_oversampled_top does (`as usize`). p may
// be nil.
func (p *SearchParams) Candidates(limit int) int {
	if p == nil || p.Oversampling == nil || *p.Oversampling <= 1 {
		return limit
	}
	c := *p.Oversampling * float64(limit)
	if c >= float64(1<<31) {
		return 1 << 31
	}
	return int(c)
}
