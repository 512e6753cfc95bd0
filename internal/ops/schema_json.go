package ops

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
)

// ParseFieldSchema decodes a field schema in Qdrant's JSON form: a bare
// type name, or an object {"type": ..., parameters}. As with serde, keys
// the type does not take are ignored, null means absent, and a parameter
// of the wrong JSON type fails the whole schema (a *SchemaError); a schema
// that decodes but breaks a rule is a *FieldError. The REST API and the
// encoding of create_index both read schemas with it.
func ParseFieldSchema(raw []byte) (FieldSchema, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return FieldSchema{}, schemaErrorf("empty schema")
	}
	var s FieldSchema
	switch raw[0] {
	case '"':
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			return FieldSchema{}, schemaErrorf("bad string: %v", err)
		}
		s.Type = FieldType(name)
	case '{':
		var err error
		if s, err = parseParams(raw); err != nil {
			return FieldSchema{}, err
		}
	default:
		return FieldSchema{}, schemaErrorf("expected a type name or an object")
	}
	if err := s.Validate(); err != nil {
		return FieldSchema{}, err
	}
	return s, nil
}

// fields is a decoded params object with typed accessors that keep the
// first error.
type fields struct {
	m   map[string]json.RawMessage
	err error
}

func (f *fields) fail(format string, args ...any) {
	if f.err == nil {
		f.err = schemaErrorf(format, args...)
	}
}

// raw returns the value of key, nil when absent or null.
func (f *fields) raw(key string) json.RawMessage {
	v := bytes.TrimSpace(f.m[key])
	if len(v) == 0 || string(v) == "null" {
		return nil
	}
	return v
}

func (f *fields) optBool(key string) *bool {
	switch v := f.raw(key); string(v) {
	case "":
		return nil
	case "true", "false":
		b := string(v) == "true"
		return &b
	}
	f.fail("%s: expected a boolean", key)
	return nil
}

// optUint reads serde's usize: digits only.
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

func parseParams(raw []byte) (FieldSchema, error) {
	f := &fields{}
	if err := json.Unmarshal(raw, &f.m); err != nil {
		return FieldSchema{}, schemaErrorf("bad object: %v", err)
	}
	v, ok := f.m["type"]
	if !ok {
		return FieldSchema{}, schemaErrorf("missing field `type`")
	}
	var name string
	if err := json.Unmarshal(v, &name); err != nil {
		return FieldSchema{}, schemaErrorf("type: expected a string")
	}
	s := FieldSchema{Type: FieldType(name), HasParams: true}
	if !slices.Contains(fieldTypes, s.Type) {
		return FieldSchema{}, schemaErrorf("unknown type %q", name)
	}
	s.OnDisk = f.optBool("on_disk")
	if m, ok := f.optString("memory"); ok {
		if s.Memory = m; m != "cold" && m != "cached" && m != "pinned" {
			f.fail("memory: unknown variant %q", m)
		}
	}
	s.EnableHNSW = f.optBool("enable_hnsw")
	switch s.Type {
	case KeywordField:
		s.IsTenant = f.optBool("is_tenant")
		s.Prefix = f.optBool("prefix")
	case UUIDField:
		s.IsTenant = f.optBool("is_tenant")
	case IntegerField:
		s.Lookup = f.optBool("lookup")
		s.Range = f.optBool("range")
		s.IsPrincipal = f.optBool("is_principal")
	case FloatField, DatetimeField:
		s.IsPrincipal = f.optBool("is_principal")
	case TextField:
		parseTextParams(f, &s)
	}
	return s, f.err
}

func parseTextParams(f *fields, s *FieldSchema) {
	s.Tokenizer = WordTokenizer
	if v, ok := f.m["tokenizer"]; ok {
		// Not an Option in Qdrant: null is an error, not the default.
		var name string
		if json.Unmarshal(v, &name) != nil {
			f.fail("tokenizer: expected a string")
		}
		if s.Tokenizer = Tokenizer(name); !slices.Contains(tokenizers, s.Tokenizer) {
			f.fail("tokenizer: unknown variant %q", name)
		}
	}
	s.MinTokenLen = f.optUint("min_token_len")
	s.MaxTokenLen = f.optUint("max_token_len")
	s.Lowercase = f.optBool("lowercase")
	s.ASCIIFolding = f.optBool("ascii_folding")
	s.PhraseMatching = f.optBool("phrase_matching")
	if v := f.raw("stopwords"); v != nil {
		if s.Stopwords = parseStopwords(v); s.Stopwords == nil {
			f.fail("stopwords: expected a language or {languages, custom}")
		}
	}
	if v := f.raw("stemmer"); v != nil {
		if s.Stemmer = parseStemmer(v); s.Stemmer == nil {
			f.fail("stemmer: expected {type: snowball, language} or {type: none}")
		}
	}
}

func parseStopwords(v json.RawMessage) *Stopwords {
	switch v[0] {
	case '"':
		var name string
		if json.Unmarshal(v, &name) != nil || name == "" {
			return nil
		}
		return &Stopwords{Language: name}
	case '{':
		f := &fields{}
		if json.Unmarshal(v, &f.m) != nil {
			return nil
		}
		sw := &Stopwords{}
		for _, p := range []struct {
			key string
			dst *[]string
		}{{"languages", &sw.Languages}, {"custom", &sw.Custom}} {
			l := f.raw(p.key)
			if l == nil {
				continue
			}
			if l[0] != '[' || json.Unmarshal(l, p.dst) != nil {
				return nil
			}
		}
		return sw
	}
	return nil
}

func parseStemmer(v json.RawMessage) *Stemmer {
	if v[0] != '{' {
		return nil
	}
	f := &fields{}
	if json.Unmarshal(v, &f.m) != nil {
		return nil
	}
	typ, _ := f.optString("type")
	switch {
	case f.err != nil:
		return nil
	case typ == "none":
		return &Stemmer{Type: "none"}
	case typ != "snowball":
		return nil
	}
	lang, ok := f.optString("language")
	if !ok || f.err != nil || lang == "" {
		return nil
	}
	return &Stemmer{Type: "snowball", Language: lang}
}

// MarshalJSON writes the schema as Qdrant serialises PayloadFieldSchema:
// the bare type name, or the params object in Qdrant's field order, where
// parameters that were not given are left out except those Qdrant always
// writes (integer lookup/range/is_principal, float and datetime
// is_principal as null; the text tokenizer). ParseFieldSchema reads it
// back to an equal schema; it is the schema's part of the encoding.
func (s FieldSchema) MarshalJSON() ([]byte, error) {
	if !s.HasParams {
		return json.Marshal(string(s.Type))
	}
	var o objWriter
	o.str("type", string(s.Type))
	switch s.Type {
	case KeywordField, UUIDField:
		o.optBool("is_tenant", s.IsTenant, false)
	case IntegerField:
		o.optBool("lookup", s.Lookup, true)
		o.optBool("range", s.Range, true)
		o.optBool("is_principal", s.IsPrincipal, true)
	case FloatField, DatetimeField:
		o.optBool("is_principal", s.IsPrincipal, true)
	case TextField:
		tk := s.Tokenizer
		if tk == "" {
			tk = WordTokenizer
		}
		o.str("tokenizer", string(tk))
		o.optInt("min_token_len", s.MinTokenLen)
		o.optInt("max_token_len", s.MaxTokenLen)
		o.optBool("lowercase", s.Lowercase, false)
		o.optBool("ascii_folding", s.ASCIIFolding, false)
		o.optBool("phrase_matching", s.PhraseMatching, false)
		if s.Stopwords != nil {
			o.raw("stopwords", s.Stopwords.json())
		}
	}
	o.optBool("on_disk", s.OnDisk, false)
	if s.Memory != "" {
		o.str("memory", s.Memory)
	}
	if s.Type == TextField && s.Stemmer != nil {
		var st objWriter
		st.str("type", s.Stemmer.Type)
		if s.Stemmer.Type == "snowball" {
			st.str("language", s.Stemmer.Language)
		}
		o.raw("stemmer", st.bytes())
	}
	o.optBool("enable_hnsw", s.EnableHNSW, false)
	if s.Type == KeywordField {
		o.optBool("prefix", s.Prefix, false)
	}
	return o.bytes(), nil
}

// UnmarshalJSON is ParseFieldSchema.
func (s *FieldSchema) UnmarshalJSON(b []byte) error {
	p, err := ParseFieldSchema(b)
	if err != nil {
		return err
	}
	*s = p
	return nil
}

func (sw *Stopwords) json() []byte {
	if sw.Language != "" {
		b, _ := json.Marshal(sw.Language)
		return b
	}
	var o objWriter
	for _, p := range []struct {
		key  string
		list []string
	}{{"languages", sw.Languages}, {"custom", sw.Custom}} {
		if p.list != nil {
			b, _ := json.Marshal(p.list)
			o.raw(p.key, b)
		}
	}
	return o.bytes()
}

// objWriter writes a JSON object with its keys in call order.
type objWriter struct{ b []byte }

func (o *objWriter) raw(k string, v []byte) {
	if len(o.b) == 0 {
		o.b = append(o.b, '{')
	} else {
		o.b = append(o.b, ',')
	}
	kb, _ := json.Marshal(k)
	o.b = append(append(append(o.b, kb...), ':'), v...)
}

func (o *objWriter) str(k, v string) {
	b, _ := json.Marshal(v)
	o.raw(k, b)
}

// optBool writes v, or null when v is nil and nullWhenUnset.
func (o *objWriter) optBool(k string, v *bool, nullWhenUnset bool) {
	switch {
	case v != nil:
		o.raw(k, strconv.AppendBool(nil, *v))
	case nullWhenUnset:
		o.raw(k, []byte("null"))
	}
}

func (o *objWriter) optInt(k string, v *int) {
	if v != nil {
		o.raw(k, strconv.AppendInt(nil, int64(*v), 10))
	}
}

func (o *objWriter) bytes() []byte {
	if len(o.b) == 0 {
		return []byte("{}")
	}
	return append(o.b, '}')
}
