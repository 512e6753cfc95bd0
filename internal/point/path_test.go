package point

import (
	"encoding/json"
	"errors"
	"testing"
)

func mustPayload(t testing.TB, s string) Payload {
	t.Helper()
	p, err := DecodePayload([]byte(s))
	if err != nil {
		t.Fatalf("payload %s: %v", s, err)
	}
	return p
}

func jsonText(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

func TestParsePath(t *testing.T) {
	cases := []struct {
		in    string
		canon string // "" means same as in
		steps int
		bad   bool
	}{
		{in: "a", steps: 1},
		{in: "a.b.c", steps: 3},
		{in: "a[]", steps: 2},
		{in: "a[].b", steps: 3},
		{in: "a[0].b", steps: 3},
		{in: "a[007]", canon: "a[7]", steps: 2},
		{in: "a[1][50].b-c[]", steps: 5},
		{in: `foo."qux[.]quux"`, steps: 2},
		{in: `"a.b".c`, steps: 2},
		{in: `"a"`, canon: "a", steps: 1},
		{in: `""`, steps: 1},
		{in: `"a b"[0]`, steps: 2},
		{in: "Müesli.日本", steps: 2},
		{in: "_x-1", steps: 1},
		{in: "", bad: true},
		{in: ".a", bad: true},
		{in: "a.", bad: true},
		{in: "a..b", bad: true},
		{in: "a b", bad: true},
		{in: "[0]", bad: true},
		{in: "a[", bad: true},
		{in: "a[x]", bad: true},
		{in: "a[-1]", bad: true},
		{in: "a[0", bad: true},
		{in: "a]", bad: true},
		{in: "a[99999999999999999999]", bad: true},
		{in: `"a`, bad: true},
		{in: `"a\"b"`, bad: true},
		{in: `"a"b`, bad: true},
		{in: "a.b$", bad: true},
		{in: "a\xff", bad: true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			p, err := ParsePath(c.in)
			if c.bad {
				if err == nil {
					t.Fatalf("parsed %q to %q, want error", c.in, p)
				}
				if !errors.Is(err, ErrInvalidPath) {
					t.Fatalf("error %v is not ErrInvalidPath", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := c.canon
			if want == "" {
				want = c.in
			}
			if p.String() != want || len(p.Steps()) != c.steps {
				t.Fatalf("got %q with %d steps, want %q with %d", p, len(p.Steps()), want, c.steps)
			}
			q, err := ParsePath(p.String())
			if err != nil || !q.Equal(p) {
				t.Fatalf("reparse of %q: %v %v", p, q, err)
			}
		})
	}
}

func TestPathJSON(t *testing.T) {
	var v struct{ K Path }
	if err := json.Unmarshal([]byte(`{"K":"a[].\"b c\""}`), &v); err != nil {
		t.Fatal(err)
	}
	if got := jsonText(t, v); got != `{"K":"a[].\"b c\""}` {
		t.Fatalf("round trip: %s", got)
	}
	if err := json.Unmarshal([]byte(`{"K":"a..b"}`), &v); !errors.Is(err, ErrInvalidPath) {
		t.Fatalf("bad path: %v", err)
	}
}

func TestPathHelpers(t *testing.T) {
	p := MustParsePath("a.b")
	if got := p.ArrayKey().String(); got != "a.b[]" {
		t.Fatalf("ArrayKey: %s", got)
	}
	if got := MustParsePath("a[]").ArrayKey().String(); got != "a[]" {
		t.Fatalf("ArrayKey idempotent: %s", got)
	}
	if got := p.Extend(MustParsePath("c[0]")).String(); got != "a.b.c[0]" {
		t.Fatalf("Extend: %s", got)
	}
	if KeyPath("x.y").String() != `"x.y"` || p.FirstKey() != "a" || !(Path{}).IsZero() {
		t.Fatal("KeyPath/FirstKey/IsZero")
	}
}

const valuesDoc = `{
	"a": {"b": [{"c": 1}, {"c": 2}, {"d": {"e": 3}}, 7]},
	"f": 3,
	"g": ["g0", "g1", "g2"],
	"n": null,
	"nn": [null, null],
	"e": [],
	"arr": [{"x": [1, 2, 3]}, {"x": 4}, {"y": 5}],
	"deep": [{"in": [{"v": 1}]}, {"in": [{"v": 3}, {"v": 5}]}],
	"objs": [{"k": 1}, {"k": 2}]
}`

func TestValues(t *testing.T) {
	doc := mustPayload(t, valuesDoc)
	cases := []struct {
		path string
		raw  string // JSON of Values
		flat string // JSON of FlatValues
	}{
		{"f", `[3]`, `[3]`},
		{"missing", `null`, `null`},
		{"a.b[].c", `[1,2]`, `[1,2]`},
		{"a.b[2].d.e", `[3]`, `[3]`},
		{"a.b[9]", `null`, `null`},
		{"a.b[3]", `[7]`, `[7]`},
		{"g", `[["g0","g1","g2"]]`, `["g0","g1","g2"]`},
		{"g[]", `["g0","g1","g2"]`, `["g0","g1","g2"]`},
		{"g[1]", `["g1"]`, `["g1"]`},
		{"n", `[null]`, `[null]`},
		{"n[]", `null`, `null`},
		{"nn", `[[null,null]]`, `[null,null]`},
		{"nn[]", `[null,null]`, `[null,null]`},
		{"e", `[[]]`, `null`},
		{"e[]", `null`, `null`},
		{"arr[].x", `[[1,2,3],4]`, `[1,2,3,4]`},
		{"arr[].x[]", `[1,2,3]`, `[1,2,3]`},
		{"deep[].in[].v", `[1,3,5]`, `[1,3,5]`},
		// A key step does not enter arrays: `objs.k` finds nothing.
		{"objs.k", `null`, `null`},
		{"objs[].k", `[1,2]`, `[1,2]`},
		{"f.x", `null`, `null`},
		{"f[]", `null`, `null`},
		{"a[0]", `null`, `null`},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			p := MustParsePath(c.path)
			if got := jsonText(t, p.Values(doc)); got != c.raw {
				t.Errorf("Values = %s, want %s", got, c.raw)
			}
			if got := jsonText(t, p.FlatValues(doc)); got != c.flat {
				t.Errorf("FlatValues = %s, want %s", got, c.flat)
			}
		})
	}
	// Go callers may nest Payload and nil maps.
	goDoc := Payload{"p": Payload{"q": 1.5}, "z": map[string]any(nil)}
	if got := MustParsePath("p.q").Values(goDoc); len(got) != 1 || got[0] != 1.5 {
		t.Fatalf("nested Payload: %v", got)
	}
	if got := MustParsePath("z.q").Values(goDoc); got != nil {
		t.Fatalf("nil map: %v", got)
	}
	if got := MustParsePath("a").Values(nil); got != nil {
		t.Fatalf("nil payload: %v", got)
	}
}

func TestEachStopsAndDoesNotAllocate(t *testing.T) {
	doc := mustPayload(t, valuesDoc)
	p := MustParsePath("deep[].in[].v")
	n := 0
	if p.Each(doc, func(any) bool { n++; return n < 2 }) || n != 2 {
		t.Fatalf("early stop: n=%d", n)
	}
	allocs := testing.AllocsPerRun(100, func() {
		p.Each(doc, func(any) bool { n++; return true })
	})
	if allocs != 0 {
		t.Fatalf("Each allocates %v times", allocs)
	}
}

func TestSetAt(t *testing.T) {
	const base = `{"a": {"b": [{"c": 1}, {"c": 2}, {"d": {"e": 3}}]}, "f": 3, "g": ["g0", "g1"]}`
	cases := []struct {
		name, doc, path, value, want string
	}{
		{"one level", base, "a", `{"b": 5}`, `{"a":{"b":5},"f":3,"g":["g0","g1"]}`},
		{"index", base, "a.b[1]", `{"c": 5}`, `{"a":{"b":[{"c":1},{"c":5},{"d":{"e":3}}]},"f":3,"g":["g0","g1"]}`},
		{"wildcard", base, "a.b[]", `{"z": 0}`,
			`{"a":{"b":[{"c":1,"z":0},{"c":2,"z":0},{"d":{"e":3},"z":0}]},"f":3,"g":["g0","g1"]}`},
		{"wildcard scalars become objects", base, "g[]", `{"z": 0}`, `{"a":{"b":[{"c":1},{"c":2},{"d":{"e":3}}]},"f":3,"g":[{"z":0},{"z":0}]}`},
		{"empty value", base, "a.b[1]", `{}`, `{"a":{"b":[{"c":1},{"c":2},{"d":{"e":3}}]},"f":3,"g":["g0","g1"]}`},
		{"create nested", `{}`, "k1.k2", `{"c": 1}`, `{"k1":{"k2":{"c":1}}}`},
		{"index on missing", `{}`, "k1.k2[3]", `{"c": 1}`, `{"k1":{"k2":[]}}`},
		{"wildcard on missing", `{}`, "k1.k2[].k3", `{"c": 1}`, `{"k1":{"k2":[]}}`},
		{"index past end", `{"a": [1]}`, "a[5]", `{"c": 1}`, `{"a":[1]}`},
		{"scalar replaced", `{"a": 10}`, "a.b.c", `{"x": 1}`, `{"a":{"b":{"c":{"x":1}}}}`},
		{"array replaced by object", `{"a": [1]}`, "a.b", `{"x": 1}`, `{"a":{"b":{"x":1}}}`},
		{"merge keeps others", `{"a": {"x": 1, "y": 2}}`, "a", `{"y": 3, "z": [4]}`, `{"a":{"x":1,"y":3,"z":[4]}}`},
		{"null removes key", `{"a": {"x": 1, "y": 2}}`, "a", `{"y": null}`, `{"a":{"x":1}}`},
		{"quoted key", `{}`, `"a.b".c`, `{"x": 1}`, `{"a.b":{"c":{"x":1}}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := mustPayload(t, c.doc)
			got := SetAt(doc, MustParsePath(c.path), mustPayload(t, c.value))
			if s := jsonText(t, got); s != c.want {
				t.Fatalf("got  %s\nwant %s", s, c.want)
			}
		})
	}
	if got := jsonText(t, SetAt(nil, MustParsePath("a"), Payload{"b": 1})); got != `{"a":{"b":1}}` {
		t.Fatalf("nil payload: %s", got)
	}
	if got := jsonText(t, SetAt(Payload{"a": 1}, Path{}, Payload{"b": 2, "a": nil})); got != `{"b":2}` {
		t.Fatalf("empty path: %s", got)
	}
	// The merged value is copied, so the targets do not share it.
	src := Payload{"m": map[string]any{"k": 1}}
	doc := SetAt(mustPayload(t, `{"a": [{}, {}]}`), MustParsePath("a[]"), src)
	doc["a"].([]any)[0].(map[string]any)["m"].(map[string]any)["k"] = 2
	if got := jsonText(t, doc); got != `{"a":[{"m":{"k":2}},{"m":{"k":1}}]}` || src["m"].(map[string]any)["k"] != 1 {
		t.Fatalf("aliasing: %s", got)
	}
}

func TestDeleteAt(t *testing.T) {
	const base = `{"a": 1, "b": {"c": 123, "e": {"f": [1,2,3], "g": 7, "i": [{"j": 1, "k": 2}, {"j": 3, "k": 4}]}}}`
	cases := []struct {
		path, removed, want string
	}{
		{"b.c", `[123]`, `{"a":1,"b":{"e":{"f":[1,2,3],"g":7,"i":[{"j":1,"k":2},{"j":3,"k":4}]}}}`},
		{"b.e.i[0].j", `[1]`, `{"a":1,"b":{"c":123,"e":{"f":[1,2,3],"g":7,"i":[{"k":2},{"j":3,"k":4}]}}}`},
		{"b.e.i[].k", `[2,4]`, `{"a":1,"b":{"c":123,"e":{"f":[1,2,3],"g":7,"i":[{"j":1},{"j":3}]}}}`},
		{"b.e.i[]", `[[{"j":1,"k":2},{"j":3,"k":4}]]`, `{"a":1,"b":{"c":123,"e":{"f":[1,2,3],"g":7,"i":[]}}}`},
		{"b.e.f[1]", `null`, base},
		{"b.e.f[9].x", `null`, base},
		{"a", `[1]`, `{"b":{"c":123,"e":{"f":[1,2,3],"g":7,"i":[{"j":1,"k":2},{"j":3,"k":4}]}}}`},
		{"b", `[{"c":123,"e":{"f":[1,2,3],"g":7,"i":[{"j":1,"k":2},{"j":3,"k":4}]}}]`, `{"a":1}`},
		{"k", `null`, base},
		{"b.e.l", `null`, base},
		{"a.x", `null`, base},
		{"a[]", `null`, base},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			doc := mustPayload(t, base)
			removed := DeleteAt(doc, MustParsePath(c.path))
			if got := jsonText(t, removed); got != c.removed {
				t.Errorf("removed %s, want %s", got, c.removed)
			}
			if got, want := jsonText(t, doc), jsonText(t, mustPayload(t, c.want)); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
	if DeleteAt(nil, MustParsePath("a")) != nil {
		t.Fatal("nil payload")
	}
}

func TestSelectExclude(t *testing.T) {
	const doc = `{
		"country": {
			"name": "Germany", "capital": "Berlin",
			"cities": [
				{"name": "Berlin", "population": 3.7, "sights": ["Gate", "Reichstag"]},
				{"name": "Munich", "population": 1.5, "sights": ["Marienplatz"]}
			]
		},
		"rank": 1,
		"tags": ["a", {"t": 1, "u": 2}]
	}`
	cases := []struct {
		name    string
		include []string
		exclude []string
		want    string
	}{
		{name: "include leaves", include: []string{"country.name", "country.capital"},
			want: `{"country":{"capital":"Berlin","name":"Germany"}}`},
		{name: "include subtree", include: []string{"country.cities"},
			want: `{"country":{"cities":[{"name":"Berlin","population":3.7,"sights":["Gate","Reichstag"]},{"name":"Munich","population":1.5,"sights":["Marienplatz"]}]}}`},
		{name: "include through array", include: []string{"country.cities[].name"},
			want: `{"country":{"cities":[{"name":"Berlin"},{"name":"Munich"}]}}`},
		{name: "include keeps scalars on the way", include: []string{"tags[].t"},
			want: `{"tags":["a",{"t":1}]}`},
		{name: "include below a scalar keeps it", include: []string{"rank.x"}, want: `{"rank":1}`},
		{name: "include index keeps empty array", include: []string{"tags[0]"}, want: `{"tags":[]}`},
		{name: "include nothing", include: []string{}, want: `{}`},
		{name: "include missing", include: []string{"nope"}, want: `{}`},
		{name: "exclude subtree", exclude: []string{"country.cities", "tags"},
			want: `{"country":{"capital":"Berlin","name":"Germany"},"rank":1}`},
		{name: "exclude leaves", exclude: []string{"country.name", "country.capital", "country.cities[].sights", "rank"},
			want: `{"country":{"cities":[{"name":"Berlin","population":3.7},{"name":"Munich","population":1.5}]},"tags":["a",{"t":1,"u":2}]}`},
		{name: "exclude wildcard empties", exclude: []string{"tags[]", "country"}, want: `{"rank":1,"tags":[]}`},
		{name: "exclude index is a no-op", exclude: []string{"tags[0]", "country"}, want: `{"rank":1,"tags":["a",{"t":1,"u":2}]}`},
		{name: "exclude nothing", exclude: []string{}, want: `{"country":{"capital":"Berlin","cities":[{"name":"Berlin","population":3.7,"sights":["Gate","Reichstag"]},{"name":"Munich","population":1.5,"sights":["Marienplatz"]}],"name":"Germany"},"rank":1,"tags":["a",{"t":1,"u":2}]}`},
	}
	paths := func(ss []string) []Path {
		out := make([]Path, len(ss))
		for i, s := range ss {
			out[i] = MustParsePath(s)
		}
		return out
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustPayload(t, doc)
			before := jsonText(t, p)
			var got Payload
			if c.include != nil {
				got = Select(p, paths(c.include))
			} else {
				got = Exclude(p, paths(c.exclude))
			}
			if s := jsonText(t, got); s != c.want {
				t.Fatalf("got  %s\nwant %s", s, c.want)
			}
			if jsonText(t, p) != before {
				t.Fatal("input was modified")
			}
		})
	}
	if Select(nil, nil) != nil || Exclude(nil, nil) != nil {
		t.Fatal("nil payload")
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"a", "a.b", "a[].b", "a[0].b", `"a.b".c`, `""`, "a[", "x[99]", "日本.語[]", `"a\"`} {
		f.Add(s)
	}
	const doc = `{"a": {"b": [{"c": 1}, null, [2]], "q": "s"}, "x": [1, {"y": [3]}], "": {"": 0}}`
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPath) || err.Error() == "" {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		q, err := ParsePath(p.String())
		if err != nil || !q.Equal(p) {
			t.Fatalf("%q: canonical %q does not round-trip: %v", s, p, err)
		}
		payload := mustPayload(t, doc)
		p.Values(payload)
		p.FlatValues(payload)
		Select(payload, []Path{p})
		Exclude(payload, []Path{p})
		SetAt(payload, p, Payload{"k": 1, "a": nil})
		DeleteAt(payload, p)
		p.Extend(p).ArrayKey().Values(payload)
	})
}
