package ops

import (
	"errors"
	"reflect"
	"testing"
)

// TestParseFieldSchema: the JSON forms Qdrant accepts, written back in
// Qdrant's form.
func TestParseFieldSchema(t *testing.T) {
	cases := []struct {
		in, out string
		want    FieldSchema
	}{
		{`"keyword"`, `"keyword"`, FieldSchema{Type: KeywordField}},
		{` "uuid" `, `"uuid"`, FieldSchema{Type: UUIDField}},
		{`{"type":"keyword","is_tenant":true,"lookup":false,"x":1}`, `{"type":"keyword","is_tenant":true}`,
			FieldSchema{Type: KeywordField, HasParams: true, IsTenant: ptr(true)}},
		{`{"type":"integer","range":false}`, `{"type":"integer","lookup":null,"range":false,"is_principal":null}`,
			FieldSchema{Type: IntegerField, HasParams: true, Range: ptr(false)}},
		{`{"type":"float","on_disk":true,"memory":"cold"}`, `{"type":"float","is_principal":null,"on_disk":true,"memory":"cold"}`,
			FieldSchema{Type: FloatField, HasParams: true, OnDisk: ptr(true), Memory: "cold"}},
		{`{"type":"text"}`, `{"type":"text","tokenizer":"word"}`, FieldSchema{Type: TextField, HasParams: true, Tokenizer: WordTokenizer}},
		{
			`{"type":"text","tokenizer":"prefix","min_token_len":2,"lowercase":null,"stopwords":{"languages":["en","english"],"custom":[]},"stemmer":{"type":"snowball","language":"en"}}`,
			`{"type":"text","tokenizer":"prefix","min_token_len":2,"stopwords":{"languages":["en","english"],"custom":[]},"stemmer":{"type":"snowball","language":"en"}}`,
			FieldSchema{Type: TextField, HasParams: true, Tokenizer: PrefixTokenizer, MinTokenLen: ptr(2),
				Stopwords: &Stopwords{Languages: []string{"en", "english"}, Custom: []string{}}, Stemmer: &Stemmer{Type: "snowball", Language: "en"}},
		},
		{`{"type":"text","stopwords":"french","stemmer":{"type":"none","language":"x"}}`, `{"type":"text","tokenizer":"word","stopwords":"french","stemmer":{"type":"none"}}`,
			FieldSchema{Type: TextField, HasParams: true, Tokenizer: WordTokenizer, Stopwords: &Stopwords{Language: "french"}, Stemmer: &Stemmer{Type: "none"}}},
		{`{"type":"keyword","prefix":true,"enable_hnsw":false}`, `{"type":"keyword","enable_hnsw":false,"prefix":true}`,
			FieldSchema{Type: KeywordField, HasParams: true, Prefix: ptr(true), EnableHNSW: ptr(false)}},
	}
	for _, c := range cases {
		got, err := ParseFieldSchema([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Fatalf("%s parses as %+v, want %+v", c.in, got, c.want)
		}
		out, err := got.MarshalJSON()
		if err != nil || string(out) != c.out {
			t.Fatalf("%s writes %s (%v), want %s", c.in, out, err, c.out)
		}
		back, err := ParseFieldSchema(out)
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Fatalf("%s reads back as %+v (%v)", out, back, err)
		}
	}
}

func TestParseFieldSchemaErrors(t *testing.T) {
	cases := []struct {
		in         string
		validation bool // a *FieldError rather than a *SchemaError
	}{
		{``, false},
		{`"nope"`, false},
		{`""`, false},
		{`1`, false},
		{`["keyword"]`, false},
		{`{"is_tenant":true}`, false},
		{`{"type":1}`, false},
		{`{"type":"keyword","is_tenant":"yes"}`, false},
		{`{"type":"keyword","memory":"hot"}`, false},
		{`{"type":"text","tokenizer":null}`, false},
		{`{"type":"text","tokenizer":"words"}`, false},
		{`{"type":"text","min_token_len":-1}`, false},
		{`{"type":"text","min_token_len":1.5}`, false},
		{`{"type":"text","stopwords":1}`, false},
		{`{"type":"text","stopwords":""}`, false},
		{`{"type":"text","stopwords":{"languages":"english"}}`, false},
		{`{"type":"text","stemmer":{"type":"snowball"}}`, false},
		{`{"type":"text","stemmer":{"type":"porter"}}`, false},
		{`{"type":"text","stemmer":"english"}`, false},
		{`{"type":"integer","lookup":false,"range":false}`, true},
		{`"keyword" x`, false},
	}
	for _, c := range cases {
		s, err := ParseFieldSchema([]byte(c.in))
		if err == nil {
			t.Fatalf("%s parsed as %+v", c.in, s)
		}
		var fe *FieldError
		var se *SchemaError
		if errors.As(err, &fe) != c.validation || errors.As(err, &se) == c.validation {
			t.Fatalf("%s: error %T %v, validation %v", c.in, err, err, c.validation)
		}
	}
}

// TestFieldSchemaValidate: a schema built by hand (by the gRPC API) is
// held to what the decoder would have produced.
func TestFieldSchemaValidate(t *testing.T) {
	valid := []FieldSchema{
		{Type: KeywordField},
		{Type: TextField, HasParams: true},
		{Type: DatetimeField, HasParams: true, IsPrincipal: ptr(true)},
		{Type: IntegerField, HasParams: true, Lookup: ptr(false)},
	}
	for _, s := range valid {
		if err := s.Validate(); err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
	}
	invalid := []FieldSchema{
		{},
		{Type: "keywords"},
		{Type: KeywordField, IsTenant: ptr(true)}, // parameters need the object form
		{Type: IntegerField, HasParams: true, IsTenant: ptr(true)},
		{Type: KeywordField, HasParams: true, Lookup: ptr(true)},
		{Type: GeoField, HasParams: true, IsPrincipal: ptr(true)},
		{Type: KeywordField, HasParams: true, Tokenizer: WordTokenizer},
		{Type: TextField, HasParams: true, Tokenizer: "bpe"},
		{Type: TextField, HasParams: true, MinTokenLen: ptr(-1)},
		{Type: TextField, HasParams: true, Stopwords: &Stopwords{Language: "english", Custom: []string{"a"}}},
		{Type: TextField, HasParams: true, Stemmer: &Stemmer{Type: "snowball"}},
		{Type: TextField, HasParams: true, Stemmer: &Stemmer{Type: "none", Language: "english"}},
		{Type: FloatField, HasParams: true, Memory: "warm"},
		{Type: IntegerField, HasParams: true, Lookup: ptr(false), Range: ptr(false)},
	}
	for _, s := range invalid {
		if err := s.Validate(); err == nil {
			t.Fatalf("%+v passed Validate", s)
		}
	}
}

// FuzzParseFieldSchema: a schema that parses writes JSON that parses back
// to an equal schema and is written the same way again.
func FuzzParseFieldSchema(f *testing.F) {
	for _, s := range []string{`"keyword"`, `{"type":"integer","lookup":true,"range":false}`,
		`{"type":"text","tokenizer":"multilingual","max_token_len":9,"stopwords":{"custom":["a","a"]},"stemmer":{"type":"snowball","language":"ru"}}`,
		`{"type":"uuid","is_tenant":false,"on_disk":true,"memory":"pinned"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseFieldSchema(data)
		if err != nil {
			return
		}
		b1, err := s.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		s2, err := ParseFieldSchema(b1)
		if err != nil || !reflect.DeepEqual(s, s2) {
			t.Fatalf("%s reads back as %+v (%v), want %+v", b1, s2, err, s)
		}
		if b2, _ := s2.MarshalJSON(); string(b1) != string(b2) {
			t.Fatalf("not stable: %s, then %s", b1, b2)
		}
	})
}
