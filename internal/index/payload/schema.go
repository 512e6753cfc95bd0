package payload

import (
	"errors"
	"fmt"
)

// Type is a payload index type (Qdrant's PayloadSchemaType).
type Type string

// The payload index types.
const (
	Keyword  Type = "keyword"
	Integer  Type = "integer"
	Float    Type = "float"
	Geo      Type = "geo"
	Text     Type = "text"
	Bool     Type = "bool"
	Datetime Type = "datetime"
	UUID     Type = "uuid"
)

// types lists the index types in Qdrant's order; the position + 1 is the
// type's byte in the persisted form.
var types = []Type{Keyword, Integer, Float, Geo, Text, Bool, Datetime, UUID}

func typeCode(t Type) byte {
	for i, x := range types {
		if x == t {
			return byte(i + 1)
		}
	}
	return 0
}

// TokenizerType names a full-text tokenizer.
type TokenizerType string

// The tokenizers of a text index.
const (
	TokenizerPrefix       TokenizerType = "prefix"
	TokenizerWhitespace   TokenizerType = "whitespace"
	TokenizerWord         TokenizerType = "word"
	TokenizerMultilingual TokenizerType = "multilingual"
)

// Schema is a parsed PayloadFieldSchema: a type alone (the bare string
// form) or a type with parameters (the object form). Optional parameters
// are nil when not given, so that the schema serialises back as given.
// Compare schemas with Equal, not ==.
type Schema struct {
	Type Type
	// HasParams is set for the object form; payload_schema then reports
	// the parameters.
	HasParams bool

	IsTenant       *bool         // keyword, uuid
	IsPrincipal    *bool         // integer, float, datetime
	OnDisk         *bool         // all (deprecated in Qdrant in favour of Memory)
	Memory         string        // all: "", "cold", "cached" or "pinned"
	EnableHNSW     *bool         // all
	Prefix         *bool         // keyword: allow `match: {prefix}`
	Lookup         *bool         // integer (default true)
	Range          *bool         // integer (default true)
	Tokenizer      TokenizerType // text; "" means word
	MinTokenLen    *int          // text
	MaxTokenLen    *int          // text
	Lowercase      *bool         // text (default true)
	ASCIIFolding   *bool         // text (default false)
	PhraseMatching *bool         // text (default false)
	Stopwords      *Stopwords    // text
	Stemmer        *Stemmer      // text: accepted and stored, not applied
}

// Stopwords is Qdrant's StopwordsInterface: one language name, or a set of
// languages plus custom words.
type Stopwords struct {
	// Language is set for the single-language form.
	Language string
	// Languages and Custom are the set form; nil means the key was absent.
	// Both are sorted and deduplicated, as Qdrant's BTreeSets are.
	Languages []string
	Custom    []string
	// HasLanguages and HasCustom record whether the keys were given.
	HasLanguages, HasCustom bool
}

// Stemmer is Qdrant's StemmingAlgorithm: {"type":"snowball","language":L}
// or {"type":"none"}.
type Stemmer struct {
	Type     string
	Language string
}

// ErrInvalidSchema marks every error of ParseSchema.
var ErrInvalidSchema = errors.New("invalid payload field schema")

// SchemaError is a field schema that does not parse. Its text is Qdrant's
// serde error for an untagged enum; Reason says what was wrong.
type SchemaError struct {
	Reason string
}

func (e *SchemaError) Error() string {
	return "data did not match any variant of untagged enum PayloadFieldSchema"
}

// Unwrap lets errors.Is(err, ErrInvalidSchema) hold.
func (e *SchemaError) Unwrap() error { return ErrInvalidSchema }

// SchemaValidationError is a schema that parses but is invalid (Qdrant's
// validator error, HTTP 422), such as an integer index with both lookup
// and range disabled.
type SchemaValidationError struct {
	Field   string
	Message string
}

func (e *SchemaValidationError) Error() string { return e.Field + ": " + e.Message }

// Unwrap lets errors.Is(err, ErrInvalidSchema) hold.
func (e *SchemaValidationError) Unwrap() error { return ErrInvalidSchema }

func schemaErrorf(format string, args ...any) error {
	return &SchemaError{Reason: fmt.Sprintf(format, args...)}
}

// LookupEnabled reports whether an integer index serves exact matches.
func (s Schema) LookupEnabled() bool { return s.Lookup == nil || *s.Lookup }

// RangeEnabled reports whether an integer index serves ranges (and
// order_by).
func (s Schema) RangeEnabled() bool { return s.Range == nil || *s.Range }

// LowercaseEnabled reports whether a text index lowercases tokens.
func (s Schema) LowercaseEnabled() bool { return s.Lowercase == nil || *s.Lowercase }

// PhraseEnabled reports whether a text index keeps token positions.
func (s Schema) PhraseEnabled() bool { return s.PhraseMatching != nil && *s.PhraseMatching }

// TokenizerKind returns the tokenizer of a text index (word by default).
func (s Schema) TokenizerKind() TokenizerType {
	if s.Tokenizer == "" {
		return TokenizerWord
	}
	return s.Tokenizer
}

// IsTenantEnabled reports whether the schema asks for tenant optimisation.
func (s Schema) IsTenantEnabled() bool { return s.IsTenant != nil && *s.IsTenant }

// IsPrincipalEnabled reports whether the schema marks a principal field.
func (s Schema) IsPrincipalEnabled() bool { return s.IsPrincipal != nil && *s.IsPrincipal }

// Equal reports whether two schemas are the same as Qdrant compares them:
// same type and same parameters as given.
func (s Schema) Equal(o Schema) bool {
	a, errA := s.MarshalJSON()
	b, errB := o.MarshalJSON()
	return errA == nil && errB == nil && string(a) == string(b)
}
