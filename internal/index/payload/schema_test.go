package payload

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParseSchema(t *testing.T) {
	cases := []struct {
		in, out string // out "" means the input
	}{
		{`"keyword"`, ``},
		{`"integer"`, ``},
		{`"float"`, ``},
		{`"geo"`, ``},
		{`"text"`, ``},
		{`"bool"`, ``},
		{`"datetime"`, ``},
		{`"uuid"`, ``},
		{` "keyword" `, `"keyword"`},
		{`{"type":"keyword"}`, ``},
		{`{"type":"keyword","is_tenant":true,"on_disk":false,"memory":"cold","enable_hnsw":false,"prefix":true}`, ``},
		{`{"is_tenant":null,"type":"keyword","unknown":[1,2]}`, `{"type":"keyword"}`},
		{`{"type":"keyword","lookup":"ignored for keyword"}`, `{"type":"keyword"}`},
		{`{"type":"integer"}`, `{"type":"integer","lookup":null,"range":null,"is_principal":null}`},
		{`{"type":"integer","lookup":false}`, `{"type":"integer","lookup":false,"range":null,"is_principal":null}`},
		{`{"type":"integer","range":false,"is_principal":true,"on_disk":true}`, `{"type":"integer","lookup":null,"range":false,"is_principal":true,"on_disk":true}`},
		{`{"type":"float"}`, `{"type":"float","is_principal":null}`},
		{`{"type":"datetime","is_principal":true}`, ``},
		{`{"type":"uuid","is_tenant":true}`, ``},
		{`{"type":"geo","on_disk":true}`, ``},
		{`{"type":"bool","memory":"cached"}`, ``},
		{`{"type":"text"}`, `{"type":"text","tokenizer":"word"}`},
		{`{"type":"text","tokenizer":"prefix","min_token_len":2,"max_token_len":10,"lowercase":false,"ascii_folding":true,"phrase_matching":true,"stopwords":"english","on_disk":false,"memory":"pinned","stemmer":{"type":"snowball","language":"english"},"enable_hnsw":true}`, ``},
		{`{"type":"text","stopwords":"en"}`, `{"type":"text","tokenizer":"word","stopwords":"english"}`},
		{`{"type":"text","stopwords":{"languages":["spanish","en","english"],"custom":["b","a","a"]}}`, `{"type":"text","tokenizer":"word","stopwords":{"languages":["english","spanish"],"custom":["a","b"]}}`},
		{`{"type":"text","stopwords":{"languages":null,"custom":["x"]}}`, `{"type":"text","tokenizer":"word","stopwords":{"custom":["x"]}}`},
		{`{"type":"text","stopwords":{}}`, `{"type":"text","tokenizer":"word","stopwords":{}}`},
		{`{"type":"text","stopwords":{"languages":[]}}`, `{"type":"text","tokenizer":"word","stopwords":{"languages":[]}}`},
		{`{"type":"text","stemmer":{"type":"snowball","language":"de"}}`, `{"type":"text","tokenizer":"word","stemmer":{"type":"snowball","language":"german"}}`},
		{`{"type":"text","stemmer":{"type":"none","language":"xx"}}`, `{"type":"text","tokenizer":"word","stemmer":{"type":"none"}}`},
		{`{"type":"text","min_token_len":0,"stopwords":null,"stemmer":null}`, `{"type":"text","tokenizer":"word","min_token_len":0}`},
	}
	for _, c := range cases {
		s, err := ParseSchema(json.RawMessage(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		want := c.out
		if want == "" {
			want = c.in
		}
		got, err := json.Marshal(s)
		if err != nil || string(got) != want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, got, want)
			continue
		}
		// the output is the persisted form: it reads back equal
		back, err := ParseSchema(got)
		if err != nil || !back.Equal(s) {
			t.Errorf("%s: round trip %v", c.in, err)
		}
	}
}

func TestParseSchemaErrors(t *testing.T) {
	bad := []string{
		``, `null`, `1`, `[]`, `true`, `"keywords"`, `"Keyword"`, `""`,
		`{}`, `{"type":null}`, `{"type":1}`, `{"type":"unknown"}`, `{"type":"keyword"`,
		`{"type":"keyword","is_tenant":"yes"}`, `{"type":"keyword","is_tenant":1}`,
		`{"type":"keyword","memory":"warm"}`, `{"type":"keyword","memory":1}`,
		`{"type":"integer","lookup":"no"}`, `{"type":"float","is_principal":0}`,
		`{"type":"text","tokenizer":null}`, `{"type":"text","tokenizer":"words"}`,
		`{"type":"text","min_token_len":-1}`, `{"type":"text","min_token_len":1.5}`,
		`{"type":"text","max_token_len":"3"}`, `{"type":"text","min_token_len":1e2}`,
		`{"type":"text","lowercase":"true"}`, `{"type":"text","phrase_matching":1}`,
		`{"type":"text","stopwords":"klingon"}`, `{"type":"text","stopwords":1}`,
		`{"type":"text","stopwords":{"languages":"english"}}`,
		`{"type":"text","stopwords":{"languages":["english","klingon"]}}`,
		`{"type":"text","stopwords":{"custom":[1]}}`,
		`{"type":"text","stemmer":{"type":"snowball"}}`,
		`{"type":"text","stemmer":{"type":"snowball","language":"klingon"}}`,
		`{"type":"text","stemmer":{"type":"porter"}}`, `{"type":"text","stemmer":"english"}`,
	}
	for _, in := range bad {
		_, err := ParseSchema(json.RawMessage(in))
		var se *SchemaError
		if !errors.As(err, &se) || !errors.Is(err, ErrInvalidSchema) {
			t.Errorf("%q: got %v, want a SchemaError", in, err)
			continue
		}
		if err.Error() != "data did not match any variant of untagged enum PayloadFieldSchema" {
			t.Errorf("%q: text %q", in, err)
		}
	}

	_, err := ParseSchema(json.RawMessage(`{"type":"integer","lookup":false,"range":false}`))
	var ve *SchemaValidationError
	if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidSchema) || ve.Field != "lookup" ||
		ve.Message != "the 'lookup' and 'range' capabilities can't be both disabled" {
		t.Fatalf("lookup and range disabled: %v", err)
	}
}

func TestSchemaHelpers(t *testing.T) {
	s := mustSchema(t, `"integer"`)
	if !s.LookupEnabled() || !s.RangeEnabled() {
		t.Fatal("integer defaults")
	}
	s = mustSchema(t, `{"type":"integer","lookup":false}`)
	if s.LookupEnabled() || !s.RangeEnabled() {
		t.Fatal("lookup false")
	}
	s = mustSchema(t, `"text"`)
	if s.TokenizerKind() != TokenizerWord || !s.LowercaseEnabled() || s.PhraseEnabled() {
		t.Fatal("text defaults")
	}
	a, b := mustSchema(t, `{"type":"text"}`), mustSchema(t, `{"type":"text","tokenizer":"word"}`)
	if !a.Equal(b) || a.Equal(mustSchema(t, `"text"`)) {
		t.Fatal("Equal")
	}
	var u Schema
	if err := json.Unmarshal([]byte(`{"type":"keyword","is_tenant":true}`), &u); err != nil || !u.IsTenantEnabled() {
		t.Fatalf("UnmarshalJSON: %v", err)
	}
}

func TestSchemaInfo(t *testing.T) {
	cases := []struct{ schema, want string }{
		{`"keyword"`, `{"data_type":"keyword","points":3}`},
		{`{"type":"keyword","is_tenant":true}`, `{"data_type":"keyword","params":{"type":"keyword","is_tenant":true},"points":3}`},
		{`{"type":"integer","lookup":true,"range":false}`, `{"data_type":"integer","params":{"type":"integer","lookup":true,"range":false,"is_principal":null},"points":3}`},
	}
	for _, c := range cases {
		got, err := json.Marshal(mustSchema(t, c.schema).Info(3))
		if err != nil || string(got) != c.want {
			t.Errorf("%s: got %s, want %s", c.schema, got, c.want)
		}
	}
}
