package collection

import (
	"encoding/json"
	"errors"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vector/quant"
)

// FormatError is a request body value that does not decode as Qdrant's
// type (HTTP 400 "Format error in JSON body"), found after the body was
// read, e.g. a quantization_config matching none of its variants.
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return e.Msg }

// checkQuantization validates a quantization_config at field: a config
// that does not parse is a FormatError with serde's untagged-enum text, a
// quantile out of range a validation message in v.
func checkQuantization(v *validation, field string, raw json.RawMessage) error {
	_, err := quant.ParseConfig(raw)
	var ve *quant.ValidationError
	switch {
	case errors.As(err, &ve):
		*v = append(*v, field+"."+ve.Field+": "+ve.Message)
		return nil
	case err != nil:
		return &FormatError{Msg: field + ": " + err.Error()}
	}
	return nil
}

// isDisabled reports the QuantizationConfigDiff variant "Disabled".
func isDisabled(raw json.RawMessage) bool { return string(raw) == `"Disabled"` }

// quantizationOf is the effective quantization of one vector: its own
// quantization_config, else the collection's (as Qdrant resolves it). The
// configs were validated on the way in; one that no longer parses counts
// as none.
func quantizationOf(cfg *Config, p VectorParams) *quant.Config {
	raw := cfg.QuantizationConfig
	if isSet(p.QuantizationConfig) {
		raw = p.QuantizationConfig
	}
	q, err := quant.ParseConfig(raw)
	if err != nil {
		return nil
	}
	return q
}

// datatypeOf is a vector's storage datatype (validated on the way in).
func datatypeOf(p VectorParams) segment.Datatype {
	if p.Datatype == nil {
		return segment.Float32
	}
	d, err := segment.ParseDatatype(*p.Datatype)
	if err != nil {
		return segment.Float32
	}
	return d
}

// preprocess returns a vector as the column stores it: normalised for
// Cosine, except for uint8 storage, which Qdrant keeps (and compares)
// unnormalised.
func preprocess(p VectorParams, v []float32) []float32 {
	if datatypeOf(p) == segment.Uint8 {
		return append([]float32(nil), v...)
	}
	if p.IsMulti() && p.Distance == Cosine {
		// Each sub-vector on its own, as Qdrant preprocesses multivectors.
		out := append([]float32(nil), v...)
		for i, d := 0, int(p.Size); d > 0 && i+d <= len(out); i += d {
			vector.Normalize(out[i : i+d])
		}
		return out
	}
	return p.Distance.Preprocess(v)
}

// quantParams converts the vocabulary's quantization search params to the
// quantizer's.
func quantParams(p *ops.QuantizationSearchParams) *quant.SearchParams {
	if p == nil {
		return nil
	}
	return &quant.SearchParams{Ignore: p.Ignore, Rescore: p.Rescore, Oversampling: p.Oversampling}
}
