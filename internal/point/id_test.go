package point

import (
	"encoding/json"
	"testing"
)

func TestIDJSON(t *testing.T) {
	cases := []struct {
		in, out string
		ok      bool
	}{
		{`42`, `42`, true},
		{`0`, `0`, true},
		{`18446744073709551615`, `18446744073709551615`, true},
		{`"5c56c793-69f3-4fbf-87e6-c4bf54c28c26"`, `"5c56c793-69f3-4fbf-87e6-c4bf54c28c26"`, true},
		{`"5C56C79369F34FBF87E6C4BF54C28C26"`, `"5c56c793-69f3-4fbf-87e6-c4bf54c28c26"`, true},
		{`"{5c56c793-69f3-4fbf-87e6-c4bf54c28c26}"`, `"5c56c793-69f3-4fbf-87e6-c4bf54c28c26"`, true},
		{`"urn:uuid:5c56c793-69f3-4fbf-87e6-c4bf54c28c26"`, `"5c56c793-69f3-4fbf-87e6-c4bf54c28c26"`, true},
		{`-1`, ``, false},
		{`1.5`, ``, false},
		{`"abc"`, ``, false},
		{`null`, ``, false},
		{`true`, ``, false},
	}
	for _, c := range cases {
		var id ID
		err := json.Unmarshal([]byte(c.in), &id)
		if (err == nil) != c.ok {
			t.Fatalf("%s: err=%v, want ok=%v", c.in, err, c.ok)
		}
		if !c.ok {
			continue
		}
		b, _ := json.Marshal(id)
		if string(b) != c.out {
			t.Fatalf("%s: got %s want %s", c.in, b, c.out)
		}
	}
}

func TestIDOrder(t *testing.T) {
	u, _ := ParseUUID("00000000-0000-0000-0000-000000000001")
	if !NumID(1).Less(NumID(2)) || NumID(2).Less(NumID(1)) {
		t.Fatal("numeric order")
	}
	if !NumID(1<<60).Less(u) || u.Less(NumID(0)) {
		t.Fatal("numbers sort before uuids")
	}
	if NumID(3).Compare(NumID(3)) != 0 {
		t.Fatal("compare equal")
	}
}

func TestDecodeJSONRejectsTrailing(t *testing.T) {
	for _, in := range []string{`{}}`, `{} ]`, `{} {}`, `1 2`} {
		var v any
		if err := DecodeJSON([]byte(in), &v); err == nil {
			t.Fatalf("%q: trailing data accepted", in)
		}
	}
	var v any
	if err := DecodeJSON([]byte(" {\"a\": 1} \n"), &v); err != nil {
		t.Fatal(err)
	}
}

func TestMergeNullDeletes(t *testing.T) {
	p := Payload{"a": "x", "b": "y"}.Merge(Payload{"a": nil, "c": "z"})
	if _, ok := p["a"]; ok || p["b"] != "y" || p["c"] != "z" {
		t.Fatalf("merge: %v", p)
	}
}
