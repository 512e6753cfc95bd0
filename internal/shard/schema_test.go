package shard

import (
	"errors"
	"testing"

	"github.com/shoaldb/shoal/internal/index/payload"
	"github.com/shoaldb/shoal/internal/ops"
)

// schemaSeeds are field schemas in Qdrant's JSON form, accepted and
// refused, by the vocabulary or by the index only.
var schemaSeeds = []string{
	`"keyword"`, `"integer"`, `"float"`, `"geo"`, `"text"`, `"bool"`, `"datetime"`, `"uuid"`, `"nope"`, `""`, `null`, `[]`,
	`{"type":"keyword","is_tenant":true,"on_disk":false,"memory":"cached","enable_hnsw":true,"prefix":false,"unknown":[1]}`,
	`{"type":"uuid","is_tenant":null}`,
	`{"type":"integer","lookup":false,"range":true,"is_principal":true}`,
	`{"type":"integer","lookup":false,"range":false}`,
	`{"type":"float","is_principal":"no"}`,
	`{"type":"datetime","memory":"hot"}`,
	`{"type":"text","tokenizer":"multilingual","min_token_len":1,"max_token_len":20,"lowercase":false,"ascii_folding":true,"phrase_matching":true}`,
	`{"type":"text","tokenizer":null}`,
	`{"type":"text","stopwords":"english"}`,
	`{"type":"text","stopwords":"en"}`,
	`{"type":"text","stopwords":"klingon"}`,
	`{"type":"text","stopwords":{"languages":["english","fr","english"],"custom":["b","a","b"]}}`,
	`{"type":"text","stopwords":{"languages":["english","klingon"]}}`,
	`{"type":"text","stopwords":{"languages":null,"custom":[]}}`,
	`{"type":"text","stopwords":{}}`,
	`{"type":"text","stemmer":{"type":"snowball","language":"english"}}`,
	`{"type":"text","stemmer":{"type":"snowball","language":"ru"}}`,
	`{"type":"text","stemmer":{"type":"snowball","language":"klingon"}}`,
	`{"type":"text","stemmer":{"type":"none"}}`,
	`{"type":"text","min_token_len":2147483648}`,
}

// FuzzIndexSchema holds the vocabulary's schema decoder to the payload
// index's: a schema in Qdrant's JSON form is accepted by the index
// (payload.ParseSchema) exactly when the vocabulary decodes it and the
// conversion below (IndexSchema) accepts the result, and then the index
// reads the same schema either way; the two refuse it with the same kind
// of error (a rule broken, HTTP 422, or a schema that does not decode,
// 400). So REST, which decodes with the vocabulary, answers as it did
// when it decoded with the index.
func FuzzIndexSchema(f *testing.F) {
	for _, s := range schemaSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, werr := payload.ParseSchema(data)
		s, oerr := ops.ParseFieldSchema(data)
		var raw []byte
		err := oerr
		if err == nil {
			raw, err = IndexSchema(&s)
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("%s: the index says %v, the vocabulary and conversion %v", data, werr, err)
		}
		if err != nil {
			var ve *payload.SchemaValidationError
			var fe *ops.FieldError
			if errors.As(werr, &ve) != (errors.As(err, &fe) || errors.As(err, &ve)) {
				t.Fatalf("%s: the index refuses it with %T, the vocabulary with %T", data, werr, err)
			}
			return
		}
		got, err := payload.ParseSchema(raw)
		if err != nil || !got.Equal(want) {
			t.Fatalf("%s converts to %s, which the index reads as %+v (%v), want %+v", data, raw, got, err, want)
		}
	})
}
