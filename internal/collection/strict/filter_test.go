package strict

import (
	"testing"

	"github.com/shoaldb/shoal/internal/filter"
)

func mustFilter(t *testing.T, js string) *filter.Filter {
	t.Helper()
	f, err := filter.Parse([]byte(js))
	if err != nil {
		t.Fatalf("filter %s: %v", js, err)
	}
	return f
}

// TestFilterMeasures holds Qdrant's total_conditions_count and
// max_condition_input_size: a nested condition counts its inner conditions
// only, an any/except list and a has_id weigh their length.
func TestFilterMeasures(t *testing.T) {
	for _, tc := range []struct {
		name       string
		filter     string
		count, max uint64
	}{
		{"empty", `{}`, 0, 0},
		{"one match", `{"must":[{"key":"a","match":{"value":1}}]}`, 1, 0},
		{"every clause", `{"must":[{"key":"a","match":{"value":1}}],"should":[{"is_empty":{"key":"b"}},{"has_id":[1,2,3]}],
			"must_not":[{"is_null":{"key":"c"}}],"min_should":{"conditions":[{"has_vector":"v"},{"key":"d","range":{"gt":1}}],"min_count":1}}`, 6, 3},
		{"any list", `{"must":[{"key":"price","match":{"any":[0,1,2,3,4,5]}}]}`, 1, 6},
		{"except list deduplicated", `{"must":[{"key":"k","match":{"except":["a","b","a"]}}]}`, 1, 2},
		{"sub-filter", `{"must":[{"must":[{"key":"a","match":{"value":1}},{"key":"b","match":{"any":[1,2]}}]}]}`, 2, 2},
		{"nested", `{"must":[{"nested":{"key":"city","filter":{"must":[{"key":"key","match":{"any":[0,1]}},
			{"key":"key2","match":{"any":[0,1,2]}}]}}}]}`, 2, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustFilter(t, tc.filter)
			if n := conditionsCount(f); n != tc.count {
				t.Errorf("conditions = %d, want %d", n, tc.count)
			}
			if m := maxConditionSize(f); m != tc.max {
				t.Errorf("max condition size = %d, want %d", m, tc.max)
			}
		})
	}
}

// TestUnindexedKey holds Qdrant's unindexed field extractor: which
// conditions need which index, what an index answers, and the schemas the
// refusal lists.
func TestUnindexedKey(t *testing.T) {
	idx := map[string]Index{
		"city":        {Type: "keyword"},
		"url":         {Type: "keyword", Prefix: true},
		"n":           {Type: "integer"},
		"n_lookup":    {Type: "integer", NoRange: true},
		"price":       {Type: "float"},
		"body":        {Type: "text"},
		"body_phrase": {Type: "text", PhraseMatching: true},
		"flag":        {Type: "bool"},
		"at":          {Type: "datetime"},
		"loc":         {Type: "geo"},
		"id":          {Type: "uuid"},
		"items[].sku": {Type: "keyword"},
	}
	const uuid1 = "550e8400-e29b-41d4-a716-446655440000"
	for _, tc := range []struct {
		name   string
		filter string
		want   string // "" when every key is indexed
	}{
		{"keyword", `{"must":[{"key":"city","match":{"value":"Berlin"}}]}`, ``},
		{"unindexed keyword", `{"must":[{"key":"town","match":{"value":"Berlin"}}]}`, `"town" of one of the following types: [keyword]`},
		{"uuid value", `{"must":[{"key":"x","match":{"value":"` + uuid1 + `"}}]}`, `"x" of one of the following types: [keyword, uuid]`},
		{"uuid value on uuid index", `{"must":[{"key":"id","match":{"value":"` + uuid1 + `"}}]}`, ``},
		{"uuid value on keyword index", `{"must":[{"key":"city","match":{"value":"` + uuid1 + `"}}]}`, ``},
		{"keyword on integer index", `{"must":[{"key":"n","match":{"value":"x"}}]}`, `"n" of one of the following types: [keyword]`},
		{"integer", `{"must":[{"key":"n","match":{"value":3}}]}`, ``},
		{"integer any", `{"must":[{"key":"n","match":{"any":[1,2]}}]}`, ``},
		{"empty any needs nothing", `{"must":[{"key":"nothing","match":{"any":[]}}]}`, ``},
		{"bool", `{"must":[{"key":"flag","match":{"value":true}}]}`, ``},
		{"bool unindexed", `{"must":[{"key":"b","match":{"value":true}}]}`, `[bool]`},
		{"range on float", `{"must":[{"key":"price","range":{"gt":1}}]}`, ``},
		{"range on integer", `{"must":[{"key":"n","range":{"gt":1}}]}`, ``},
		{"range on lookup-only integer", `{"must":[{"key":"n_lookup","range":{"gt":1}}]}`, `"n_lookup" of one of the following types: [float, integer]`},
		{"match on lookup-only integer", `{"must":[{"key":"n_lookup","match":{"value":1}}]}`, ``},
		{"datetime range", `{"must":[{"key":"at","range":{"gt":"2024-01-01T00:00:00Z"}}]}`, ``},
		{"datetime unindexed", `{"must":[{"key":"t","range":{"gt":"2024-01-01T00:00:00Z"}}]}`, `[datetime]`},
		{"geo", `{"must":[{"key":"loc","geo_radius":{"center":{"lon":0,"lat":0},"radius":10}}]}`, ``},
		{"geo on keyword", `{"must":[{"key":"city","geo_radius":{"center":{"lon":0,"lat":0},"radius":10}}]}`, `"city" of one of the following types: [geo]`},
		{"text", `{"must":[{"key":"body","match":{"text":"a b"}}]}`, ``},
		{"phrase on plain text", `{"must":[{"key":"body","match":{"phrase":"a b"}}]}`, `"body" of one of the following types: [text (with phrase_matching: true)]`},
		{"phrase", `{"must":[{"key":"body_phrase","match":{"phrase":"a b"}}]}`, ``},
		{"prefix on plain keyword", `{"must":[{"key":"city","match":{"prefix":"Be"}}]}`, `"city" of one of the following types: [keyword]`},
		{"prefix", `{"must":[{"key":"url","match":{"prefix":"https"}}]}`, ``},
		{"is_empty takes any index", `{"must":[{"is_empty":{"key":"price"}}]}`, ``},
		{"is_empty unindexed", `{"must":[{"is_empty":{"key":"q"}}]}`,
			`"q" of one of the following types: [bool, datetime, float, geo, integer, keyword, text, text (with phrase_matching: true), uuid]`},
		{"has_id and has_vector need none", `{"must":[{"has_id":[1]},{"has_vector":"v"}]}`, ``},
		{"nested key", `{"must":[{"nested":{"key":"items","filter":{"must":[{"key":"sku","match":{"value":"a"}}]}}}]}`, ``},
		{"nested unindexed", `{"must":[{"nested":{"key":"items","filter":{"must":[{"key":"qty","match":{"value":1}}]}}}]}`, `"items[].qty" of one of the following types: [integer]`},
		{"in a sub-filter", `{"should":[{"must":[{"key":"city","match":{"value":"a"}},{"key":"zip","match":{"value":1}}]}]}`, `"zip"`},
		{"first in order: must before should", `{"should":[{"key":"s","match":{"value":1}}],"must":[{"key":"m","match":{"value":1}}]}`, `"m"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, ok := unindexedKey(mustFilter(t, tc.filter), idx)
			if tc.want == "" {
				if ok {
					t.Fatalf("unindexed %q [%s], want none", u.key, u.schemas())
				}
				return
			}
			if !ok {
				t.Fatalf("no unindexed key, want %s", tc.want)
			}
			msg := u.error("Create an index for this key or use a different filter.").Error()
			if !contains(msg, tc.want) || !contains(msg, "Index required but not found for ") ||
				!contains(msg, ". Help: Create an index for this key or use a different filter.") {
				t.Fatalf("%s\nwant it to hold %s", msg, tc.want)
			}
		})
	}
}
