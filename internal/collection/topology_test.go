package collection

import (
	"context"
	"testing"
)

func TestParseShardKey(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{`"eu"`, `"eu"`, true},
		{` "a b" `, `"a b"`, true},
		{`12`, `12`, true},
		{`18446744073709551615`, `18446744073709551615`, true},
		{`18446744073709551616`, ``, false},
		{`-1`, ``, false},
		{`1.5`, ``, false},
		{`null`, ``, false},
		{``, ``, false},
	} {
		got, err := ParseShardKey([]byte(tc.in))
		if (err == nil) != tc.ok || string(got) != tc.want {
			t.Errorf("ParseShardKey(%s) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	if ShardKey(`"eu"`).String() != "eu" || ShardKey(`12`).String() != "12" {
		t.Error("String")
	}
}

func TestParseReadConsistency(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ReadConsistency
		ok   bool
	}{
		{"all", ReadConsistency{Kind: ConsistencyAll}, true},
		{"majority", ReadConsistency{Kind: ConsistencyMajority}, true},
		{"quorum", ReadConsistency{Kind: ConsistencyQuorum}, true},
		{"3", ReadConsistency{Factor: 3}, true},
		{"0", ReadConsistency{}, false},
		{"-1", ReadConsistency{}, false},
		{"most", ReadConsistency{}, false},
	} {
		got, err := ParseReadConsistency(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseReadConsistency(%q) = %+v, %v", tc.in, got, err)
		}
	}
	ctx := WithRouting(context.Background(), Routing{Ordering: OrderingStrong, ShardKeys: []ShardKey{`"a"`}})
	if r := RoutingOf(ctx); r.Ordering != OrderingStrong || len(r.ShardKeys) != 1 {
		t.Errorf("RoutingOf = %+v", r)
	}
	if r := RoutingOf(context.Background()); r.Ordering != OrderingWeak || r.ShardKeys != nil {
		t.Errorf("zero routing = %+v", r)
	}
}
