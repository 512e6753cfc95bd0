package payload

import (
	"encoding/json"
	"strconv"
)

// MarshalJSON writes the schema as Qdrant serialises PayloadFieldSchema: the
// bare type name, or the params object with Qdrant's field order, where
// optional fields that were not given are left out except those Qdrant
// always writes (integer lookup/range/is_principal, float and datetime
// is_principal as null; text tokenizer). ParseSchema reads it back to an
// equal schema, so this is also the persisted form.
func (s Schema) MarshalJSON() ([]byte, error) {
	if !s.HasParams {
		return json.Marshal(string(s.Type))
	}
	var o objWriter
	o.str("type", string(s.Type))
	switch s.Type {
	case Keyword:
		o.optBool("is_tenant", s.IsTenant, false)
	case UUID:
		o.optBool("is_tenant", s.IsTenant, false)
	case Integer:
		o.optBool("lookup", s.Lookup, true)
		o.optBool("range", s.Range, true)
		o.optBool("is_principal", s.IsPrincipal, true)
	case Float, Datetime:
		o.optBool("is_principal", s.IsPrincipal, true)
	case Text:
		o.str("tokenizer", string(s.TokenizerKind()))
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
	if s.Type == Text && s.Stemmer != nil {
		var st objWriter
		st.str("type", s.Stemmer.Type)
		if s.Stemmer.Type == "snowball" {
			st.str("language", s.Stemmer.Language)
		}
		o.raw("stemmer", st.bytes())
	}
	o.optBool("enable_hnsw", s.EnableHNSW, false)
	if s.Type == Keyword {
		o.optBool("prefix", s.Prefix, false)
	}
	return o.bytes(), nil
}

// UnmarshalJSON is ParseSchema.
func (s *Schema) UnmarshalJSON(b []byte) error {
	p, err := ParseSchema(b)
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
	if sw.HasLanguages || sw.Languages != nil {
		b, _ := json.Marshal(nonNil(sw.Languages))
		o.raw("languages", b)
	}
	if sw.HasCustom || sw.Custom != nil {
		b, _ := json.Marshal(nonNil(sw.Custom))
		o.raw("custom", b)
	}
	return o.bytes()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// IndexInfo is Qdrant's PayloadIndexInfo, an entry of payload_schema.
type IndexInfo struct {
	DataType Type    `json:"data_type"`
	Params   *Schema `json:"params,omitempty"`
	Points   int     `json:"points"`
}

// Info returns the payload_schema entry of an index with this schema that
// holds points points; params appear only for the object form.
func (s Schema) Info(points int) IndexInfo {
	info := IndexInfo{DataType: s.Type, Points: points}
	if s.HasParams {
		p := s
		info.Params = &p
	}
	return info
}

// objWriter writes a JSON object with keys in call order.
type objWriter struct{ b []byte }

func (o *objWriter) key(k string) {
	if len(o.b) == 0 {
		o.b = append(o.b, '{')
	} else {
		o.b = append(o.b, ',')
	}
	o.b = strconv.AppendQuote(o.b, k)
	o.b = append(o.b, ':')
}

func (o *objWriter) str(k, v string) {
	b, _ := json.Marshal(v)
	o.raw(k, b)
}

func (o *objWriter) raw(k string, v []byte) {
	o.key(k)
	o.b = append(o.b, v...)
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
