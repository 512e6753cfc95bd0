package payload

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
)

// ParseSchema parses a PayloadFieldSchema: a bare type name ("keyword",
// "integer", "float", "geo", "text", "bool", "datetime", "uuid") or a
// params object {"type": ..., ...} as in Qdrant's OpenAPI. As with serde,
// unknown keys are ignored, null means absent, and a parameter of the
// wrong JSON type fails the whole schema. The error wraps ErrInvalidSchema:
// a *SchemaError for malformed input, a *SchemaValidationError for an
// integer index with both lookup and range disabled.
func ParseSchema(raw json.RawMessage) (Schema, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return Schema{}, schemaErrorf("empty schema")
	}
	switch raw[0] {
	case '"':
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			return Schema{}, schemaErrorf("bad string: %v", err)
		}
		t, ok := parseType(name)
		if !ok {
			return Schema{}, schemaErrorf("unknown type %q", name)
		}
		return Schema{Type: t}, nil
	case '{':
		return parseParams(raw)
	}
	return Schema{}, schemaErrorf("expected a type name or an object")
}

func parseType(name string) (Type, bool) {
	t := Type(name)
	return t, slices.Contains(types, t)
}

// fields is the decoded params object, with typed accessors that record
// the first error.
type fields struct {
	m   map[string]json.RawMessage
	err error
}

func (f *fields) fail(format string, args ...any) {
	if f.err == nil {
		f.err = schemaErrorf(format, args...)
	}
}

// raw returns the value of key, or nil when absent or null.
func (f *fields) raw(key string) json.RawMessage {
	v, ok := f.m[key]
	if !ok {
		return nil
	}
	v = bytes.TrimSpace(v)
	if string(v) == "null" {
		return nil
	}
	return v
}

func (f *fields) optBool(key string) *bool {
	v := f.raw(key)
	switch string(v) {
	case "":
		return nil
	case "true", "false":
		b := string(v) == "true"
		return &b
	}
	f.fail("%s: expected a boolean", key)
	return nil
}

// optUint reads an unsigned integer (serde's usize: digits only).
func (f *fields) optUint(key string) *int {
	v := f.raw(key)
	if v == nil {
		return nil
	}
	n, err := strconv.ParseUint(string(v), 10, 31)
	if err != nil {
		f.fail("%s: expected an unsigned integer", key)
		return nil
	}
	i := int(n)
	return &i
}

func (f *fields) optString(key string) (string, bool) {
	v := f.raw(key)
	if v == nil {
		return "", false
	}
	var s string
	if v[0] != '"' || json.Unmarshal(v, &s) != nil {
		f.fail("%s: expected a string", key)
		return "", false
	}
	return s, true
}

func (f *fields) memory() string {
	s, ok := f.optString("memory")
	if ok && s != "cold" && s != "cached" && s != "pinned" {
		f.fail("memory: unknown variant %q", s)
		return ""
	}
	return s
}

func parseParams(raw json.RawMessage) (Schema, error) {
	f := &fields{}
	if err := json.Unmarshal(raw, &f.m); err != nil {
		return Schema{}, schemaErrorf("bad object: %v", err)
	}
	v, ok := f.m["type"]
	if !ok {
		return Schema{}, schemaErrorf("missing field `type`")
	}
	var name string
	if err := json.Unmarshal(v, &name); err != nil {
		return Schema{}, schemaErrorf("type: expected a string")
	}
	t, ok := parseType(name)
	if !ok {
		return Schema{}, schemaErrorf("unknown type %q", name)
	}
	s := Schema{Type: t, HasParams: true}
	s.OnDisk = f.optBool("on_disk")
	s.Memory = f.memory()
	s.EnableHNSW = f.optBool("enable_hnsw")
	switch t {
	case Keyword:
		s.IsTenant = f.optBool("is_tenant")
		s.Prefix = f.optBool("prefix")
	case UUID:
		s.IsTenant = f.optBool("is_tenant")
	case Integer:
		s.Lookup = f.optBool("lookup")
		s.Range = f.optBool("range")
		s.IsPrincipal = f.optBool("is_principal")
	case Float, Datetime:
		s.IsPrincipal = f.optBool("is_principal")
	case Text:
		parseTextParams(f, &s)
	}
	if f.err != nil {
		return Schema{}, f.err
	}
	if t == Integer && !s.LookupEnabled() && !s.RangeEnabled() {
		return Schema{}, &SchemaValidationError{
			Field:   "lookup",
			Message: "the 'lookup' and 'range' capabilities can't be both disabled",
		}
	}
	return s, nil
}

func parseTextParams(f *fields, s *Schema) {
	s.Tokenizer = TokenizerWord
	if v, ok := f.m["tokenizer"]; ok {
		// Not an Option in Qdrant: null is an error, not the default.
		var name string
		if json.Unmarshal(v, &name) != nil {
			f.fail("tokenizer: expected a string")
		}
		switch tk := TokenizerType(name); tk {
		case TokenizerPrefix, TokenizerWhitespace, TokenizerWord, TokenizerMultilingual:
			s.Tokenizer = tk
		default:
			f.fail("tokenizer: unknown variant %q", name)
		}
	}
	s.MinTokenLen = f.optUint("min_token_len")
	s.MaxTokenLen = f.optUint("max_token_len")
	s.Lowercase = f.optBool("lowercase")
	s.ASCIIFolding = f.optBool("ascii_folding")
	s.PhraseMatching = f.optBool("phrase_matching")
	if v := f.raw("stopwords"); v != nil {
		sw, ok := parseStopwords(v)
		if !ok {
			f.fail("stopwords: expected a language or {languages, custom}")
		}
		s.Stopwords = sw
	}
	if v := f.raw("stemmer"); v != nil {
		st, ok := parseStemmer(v)
		if !ok {
			f.fail("stemmer: expected {type: snowball, language} or {type: none}")
		}
		s.Stemmer = st
	}
}

func parseStopwords(v json.RawMessage) (*Stopwords, bool) {
	switch v[0] {
	case '"':
		var name string
		if json.Unmarshal(v, &name) != nil {
			return nil, false
		}
		lang, ok := stopwordLanguage(name)
		if !ok {
			return nil, false
		}
		return &Stopwords{Language: lang}, true
	case '{':
		f := &fields{}
		if json.Unmarshal(v, &f.m) != nil {
			return nil, false
		}
		sw := &Stopwords{}
		if l := f.raw("languages"); l != nil {
			var names []string
			if l[0] != '[' || json.Unmarshal(l, &names) != nil {
				return nil, false
			}
			for _, n := range names {
				lang, ok := stopwordLanguage(n)
				if !ok {
					return nil, false
				}
				sw.Languages = append(sw.Languages, lang)
			}
			sw.HasLanguages = true
			sw.Languages = sortedSet(sw.Languages)
		}
		if c := f.raw("custom"); c != nil {
			var words []string
			if c[0] != '[' || json.Unmarshal(c, &words) != nil {
				return nil, false
			}
			sw.HasCustom = true
			sw.Custom = sortedSet(words)
		}
		return sw, true
	}
	return nil, false
}

// sortedSet sorts and deduplicates, returning a non-nil slice.
func sortedSet(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func parseStemmer(v json.RawMessage) (*Stemmer, bool) {
	if v[0] != '{' {
		return nil, false
	}
	f := &fields{}
	if json.Unmarshal(v, &f.m) != nil {
		return nil, false
	}
	typ, _ := f.optString("type")
	if f.err != nil {
		return nil, false
	}
	switch typ {
	case "snowball":
		name, ok := f.optString("language")
		if !ok || f.err != nil {
			return nil, false
		}
		lang, ok := snowballLanguage(name)
		if !ok {
			return nil, false
		}
		return &Stemmer{Type: "snowball", Language: lang}, true
	case "none":
		return &Stemmer{Type: "none"}, true
	}
	return nil, false
}

// snowballLanguages maps Qdrant's SnowballLanguage names and aliases to
// the canonical name.
var snowballLanguages = map[string]string{
	"arabic": "arabic", "ar": "arabic", "armenian": "armenian", "hy": "armenian",
	"danish": "danish", "da": "danish", "dutch": "dutch", "nl": "dutch",
	"english": "english", "en": "english", "finnish": "finnish", "fi": "finnish",
	"french": "french", "fr": "french", "german": "german", "de": "german",
	"greek": "greek", "el": "greek", "hungarian": "hungarian", "hu": "hungarian",
	"italian": "italian", "it": "italian", "norwegian": "norwegian", "no": "norwegian",
	"portuguese": "portuguese", "pt": "portuguese", "romanian": "romanian", "ro": "romanian",
	"russian": "russian", "ru": "russian", "spanish": "spanish", "es": "spanish",
	"swedish": "swedish", "sv": "swedish", "tamil": "tamil", "ta": "tamil",
	"turkish": "turkish", "tr": "turkish",
}

func snowballLanguage(name string) (string, bool) {
	l, ok := snowballLanguages[name]
	return l, ok
}
