package ops

import (
	"fmt"
	"slices"
)

// FieldType is a payload index type (Qdrant's PayloadSchemaType).
type FieldType string

// The payload index types.
const (
	KeywordField  FieldType = "keyword"
	IntegerField  FieldType = "integer"
	FloatField    FieldType = "float"
	GeoField      FieldType = "geo"
	TextField     FieldType = "text"
	BoolField     FieldType = "bool"
	DatetimeField FieldType = "datetime"
	UUIDField     FieldType = "uuid"
)

var fieldTypes = []FieldType{KeywordField, IntegerField, FloatField, GeoField, TextField, BoolField, DatetimeField, UUIDField}

// Tokenizer names the tokenizer of a text index.
type Tokenizer string

// The tokenizers.
const (
	PrefixTokenizer       Tokenizer = "prefix"
	WhitespaceTokenizer   Tokenizer = "whitespace"
	WordTokenizer         Tokenizer = "word"
	MultilingualTokenizer Tokenizer = "multilingual"
)

var tokenizers = []Tokenizer{PrefixTokenizer, WhitespaceTokenizer, WordTokenizer, MultilingualTokenizer}

// FieldSchema is the schema of a payload index (Qdrant's
// PayloadFieldSchema): a type alone (HasParams false, the bare string form)
// or a type with parameters (the object form). An optional parameter is
// nil when not given, so that the schema reads back as given. The
// parameters each type takes:
//
//	keyword   IsTenant, Prefix
//	uuid      IsTenant
//	integer   Lookup, Range, IsPrincipal
//	float     IsPrincipal
//	datetime  IsPrincipal
//	text      Tokenizer, MinTokenLen, MaxTokenLen, Lowercase, ASCIIFolding,
//	          PhraseMatching, Stopwords, Stemmer
//	all       OnDisk, Memory, EnableHNSW
//
// Language names (of stopwords and stemmers) are kept as given; the payload
// index resolves them, and refuses a name it does not know, when the
// collection converts the schema.
type FieldSchema struct {
	Type      FieldType
	HasParams bool

	IsTenant       *bool
	IsPrincipal    *bool
	OnDisk         *bool
	Memory         string // "", "cold", "cached" or "pinned"
	EnableHNSW     *bool
	Prefix         *bool
	Lookup         *bool
	Range          *bool
	Tokenizer      Tokenizer // "" means word
	MinTokenLen    *int
	MaxTokenLen    *int
	Lowercase      *bool
	ASCIIFolding   *bool
	PhraseMatching *bool
	Stopwords      *Stopwords
	Stemmer        *Stemmer
}

// Stopwords is Qdrant's StopwordsInterface: one language (Language set),
// or languages and custom words (nil when the key is absent).
type Stopwords struct {
	Language  string
	Languages []string
	Custom    []string
}

// Stemmer is Qdrant's StemmingAlgorithm: Type "snowball" with a Language,
// or Type "none".
type Stemmer struct {
	Type     string
	Language string
}

// SchemaError is a field schema that does not decode. Its text is Qdrant's
// serde error for the untagged enum; Reason says what was wrong.
type SchemaError struct{ Reason string }

func (e *SchemaError) Error() string {
	return "data did not match any variant of untagged enum PayloadFieldSchema"
}

func schemaErrorf(format string, args ...any) error {
	return &SchemaError{Reason: fmt.Sprintf(format, args...)}
}

// FieldError is a value that decodes but breaks a rule (Qdrant's validator
// error, HTTP 422), at Field of the value checked.
type FieldError struct{ Field, Message string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Validate checks what the decoder checks, for values built by hand: a
// known type, tokenizer and memory, parameters that belong to the type,
// and (a *FieldError) an integer index that keeps lookup or range.
func (s *FieldSchema) Validate() error {
	if !slices.Contains(fieldTypes, s.Type) {
		return schemaErrorf("unknown type %q", s.Type)
	}
	if !s.HasParams && *s != (FieldSchema{Type: s.Type}) {
		return schemaErrorf("parameters without the object form")
	}
	switch s.Memory {
	case "", "cold", "cached", "pinned":
	default:
		return schemaErrorf("memory: unknown variant %q", s.Memory)
	}
	text := s.Tokenizer != "" || s.MinTokenLen != nil || s.MaxTokenLen != nil || s.Lowercase != nil ||
		s.ASCIIFolding != nil || s.PhraseMatching != nil || s.Stopwords != nil || s.Stemmer != nil
	for _, p := range []struct {
		name  string
		set   bool
		types []FieldType
	}{
		{"is_tenant", s.IsTenant != nil, []FieldType{KeywordField, UUIDField}},
		{"prefix", s.Prefix != nil, []FieldType{KeywordField}},
		{"lookup", s.Lookup != nil, []FieldType{IntegerField}},
		{"range", s.Range != nil, []FieldType{IntegerField}},
		{"is_principal", s.IsPrincipal != nil, []FieldType{IntegerField, FloatField, DatetimeField}},
		{"text parameters", text, []FieldType{TextField}},
	} {
		if p.set && !slices.Contains(p.types, s.Type) {
			return schemaErrorf("%s: not a parameter of a %s index", p.name, s.Type)
		}
	}
	if s.Tokenizer != "" && !slices.Contains(tokenizers, s.Tokenizer) {
		return schemaErrorf("tokenizer: unknown variant %q", s.Tokenizer)
	}
	for _, p := range []*int{s.MinTokenLen, s.MaxTokenLen} {
		if p != nil && (*p < 0 || *p > maxTokenLen) {
			return schemaErrorf("token length %d out of range", *p)
		}
	}
	if sw := s.Stopwords; sw != nil && sw.Language != "" && (sw.Languages != nil || sw.Custom != nil) {
		return schemaErrorf("stopwords: a language and a set at once")
	}
	if st := s.Stemmer; st != nil {
		switch {
		case st.Type == "snowball" && st.Language != "":
		case st.Type == "none" && st.Language == "":
		default:
			return schemaErrorf("stemmer: expected {type: snowball, language} or {type: none}")
		}
	}
	if s.Type == IntegerField && s.Lookup != nil && !*s.Lookup && s.Range != nil && !*s.Range {
		return &FieldError{Field: "lookup", Message: "the 'lookup' and 'range' capabilities can't be both disabled"}
	}
	return nil
}

// maxTokenLen bounds token lengths as the decoder does (serde's usize,
// read into 31 bits).
const maxTokenLen = 1<<31 - 1
