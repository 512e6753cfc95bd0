package strict

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		want      string // canonical JSON; "" for nil
		format    string // a *FormatError containing this
		invalid   string // a *ValidationError containing this
	}{
		{name: "absent", raw: ``},
		{name: "null", raw: `null`},
		{name: "empty", raw: `{}`, want: `{}`},
		{name: "every key", raw: `{"enabled":true,"max_query_limit":10,"max_timeout":2,"unindexed_filtering_retrieve":false,
			"unindexed_filtering_update":false,"search_max_hnsw_ef":3,"search_allow_exact":false,"search_max_oversampling":1.5,
			"upsert_max_batchsize":6,"search_max_batchsize":4,"max_collection_vector_size_bytes":240,"read_rate_limit":60,
			"write_rate_limit":7,"max_collection_payload_size_bytes":45000,"max_points_count":10,"filter_max_conditions":5,
			"condition_max_size":5,"multivector_config":{"m":{"max_vectors":5}},"sparse_config":{"s":{"max_length":4}},
			"max_payload_index_count":3,"max_resident_memory_percent":90}`,
			want: `{"enabled":true,"max_query_limit":10,"max_timeout":2,"unindexed_filtering_retrieve":false,` +
				`"unindexed_filtering_update":false,"search_max_hnsw_ef":3,"search_allow_exact":false,"search_max_oversampling":1.5,` +
				`"upsert_max_batchsize":6,"search_max_batchsize":4,"max_collection_vector_size_bytes":240,"read_rate_limit":60,` +
				`"write_rate_limit":7,"max_collection_payload_size_bytes":45000,"max_points_count":10,"filter_max_conditions":5,` +
				`"condition_max_size":5,"multivector_config":{"m":{"max_vectors":5}},"sparse_config":{"s":{"max_length":4}},` +
				`"max_payload_index_count":3,"max_resident_memory_percent":90}`},
		{name: "unknown keys and nulls dropped", raw: `{"enabled":false,"max_timeout":null,"whatever":1}`, want: `{"enabled":false}`},
		{name: "zero where allowed", raw: `{"search_max_hnsw_ef":0,"upsert_max_batchsize":0,"filter_max_conditions":0}`,
			want: `{"search_max_hnsw_ef":0,"upsert_max_batchsize":0,"filter_max_conditions":0}`},
		{name: "not an object", raw: `[1]`, format: "strict_mode_config: invalid type"},
		{name: "string limit", raw: `{"max_query_limit":"10"}`, format: `strict_mode_config.max_query_limit: invalid value "10"`},
		{name: "negative limit", raw: `{"max_timeout":-1}`, format: "strict_mode_config.max_timeout: invalid value -1: expected an unsigned integer"},
		{name: "fractional limit", raw: `{"read_rate_limit":1.5}`, format: "read_rate_limit"},
		{name: "bool as number", raw: `{"enabled":1}`, format: "strict_mode_config.enabled: invalid value 1: expected a boolean"},
		{name: "bad multivector", raw: `{"multivector_config":{"m":{"max_vectors":"x"}}}`, format: "multivector_config"},
		{name: "zero query limit", raw: `{"max_query_limit":0}`, invalid: "strict_mode_config.max_query_limit: value 0 invalid, must be 1 or larger"},
		{name: "zero timeout", raw: `{"max_timeout":0}`, invalid: "strict_mode_config.max_timeout: value 0 invalid, must be 1 or larger"},
		{name: "zero rate", raw: `{"read_rate_limit":0,"write_rate_limit":0}`, invalid: "strict_mode_config.read_rate_limit: value 0 invalid, must be 1 or larger, strict_mode_config.write_rate_limit"},
		{name: "zero points", raw: `{"max_points_count":0}`, invalid: "max_points_count: value 0 invalid"},
		{name: "zero max_vectors", raw: `{"multivector_config":{"m":{"max_vectors":0}}}`, invalid: "strict_mode_config.multivector_config.m.max_vectors: value 0 invalid"},
		{name: "zero max_length", raw: `{"sparse_config":{"s":{"max_length":0}}}`, invalid: "strict_mode_config.sparse_config.s.max_length: value 0 invalid"},
		{name: "memory over 100", raw: `{"max_resident_memory_percent":101}`, invalid: "strict_mode_config.max_resident_memory_percent: value 101 invalid, must be in range [1, 100]"},
		{name: "memory 0", raw: `{"max_resident_memory_percent":0}`, invalid: "must be in range [1, 100]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(json.RawMessage(tc.raw))
			var fe *FormatError
			var ve *ValidationError
			switch {
			case tc.format != "":
				if !errors.As(err, &fe) || !strings.Contains(fe.Msg, tc.format) {
					t.Fatalf("err = %v, want a format error with %q", err, tc.format)
				}
			case tc.invalid != "":
				if !errors.As(err, &ve) || !strings.Contains(ve.Error(), tc.invalid) {
					t.Fatalf("err = %v, want a validation error with %q", err, tc.invalid)
				}
			case err != nil:
				t.Fatal(err)
			case string(got) != tc.want:
				t.Fatalf("got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestMerge: a PATCH sets the keys it gives and keeps the others; null
// does not unset (Qdrant's test_strict_mode_unset_rate_limiting_config).
func TestMerge(t *testing.T) {
	for _, tc := range []struct {
		name, cur, diff, want string
	}{
		{"into none", ``, `{"enabled":true,"max_query_limit":4}`, `{"enabled":true,"max_query_limit":4}`},
		{"no diff", `{"enabled":true}`, ``, `{"enabled":true}`},
		{"null diff", `{"enabled":true}`, `null`, `{"enabled":true}`},
		{"override one", `{"enabled":true,"max_query_limit":4}`, `{"max_query_limit":3}`, `{"enabled":true,"max_query_limit":3}`},
		{"add one", `{"enabled":true,"write_rate_limit":1}`, `{"read_rate_limit":2}`, `{"enabled":true,"read_rate_limit":2,"write_rate_limit":1}`},
		{"null keeps", `{"enabled":true,"read_rate_limit":2,"write_rate_limit":1}`, `{"write_rate_limit":null}`, `{"enabled":true,"read_rate_limit":2,"write_rate_limit":1}`},
		{"disable", `{"enabled":true,"max_query_limit":4}`, `{"enabled":false}`, `{"enabled":false,"max_query_limit":4}`},
		{"map replaced whole", `{"sparse_config":{"a":{"max_length":1}}}`, `{"sparse_config":{"b":{"max_length":2}}}`, `{"sparse_config":{"b":{"max_length":2}}}`},
		{"garbage stored", `{"max_query_limit":"x"}`, `{"enabled":true}`, `{"enabled":true}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Merge(json.RawMessage(tc.cur), json.RawMessage(tc.diff))
			if err != nil || string(got) != tc.want {
				t.Fatalf("Merge(%s, %s) = %s, %v; want %s", tc.cur, tc.diff, got, err, tc.want)
			}
		})
	}
	if _, err := Merge(json.RawMessage(`{"enabled":true}`), json.RawMessage(`{"max_timeout":0}`)); err == nil {
		t.Fatal("an invalid diff merged")
	}
}
