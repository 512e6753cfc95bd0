package ops

import (
	"math"
	"reflect"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
)

func TestPayloadSelectorApply(t *testing.T) {
	stored := mustPayload(t, `{"a":1,"b":{"c":2,"d":3}}`)
	cases := []struct {
		name string
		sel  PayloadSelector
		in   point.Payload
		want point.Payload
	}{
		{"disabled", PayloadSelector{}, stored, nil},
		{"all", PayloadSelector{Enable: true}, stored, stored},
		{"none stored", PayloadSelector{Enable: true}, nil, point.Payload{}},
		{"include", PayloadSelector{Enable: true, Include: []point.Path{point.MustParsePath("b.c")}}, stored, mustPayload(t, `{"b":{"c":2}}`)},
		{"exclude", PayloadSelector{Enable: true, Exclude: []point.Path{point.MustParsePath("b")}}, stored, mustPayload(t, `{"a":1}`)},
		{"include nothing there", PayloadSelector{Enable: true, Include: []point.Path{point.MustParsePath("z")}}, stored, point.Payload{}},
	}
	for _, c := range cases {
		if got := c.sel.Apply(c.in); !reflect.DeepEqual(got, c.want) {
			t.Fatalf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestVectorSelectorSelection(t *testing.T) {
	if (VectorSelector{}).Selection() != nil || (VectorSelector{Names: []string{"a"}}).Selection() != nil {
		t.Fatal("a disabled selector selects")
	}
	all := (VectorSelector{Enable: true}).Selection()
	some := (VectorSelector{Enable: true, Names: []string{"a", "", "a"}}).Selection()
	for _, c := range []struct {
		name      string
		all, some bool
	}{{"a", true, true}, {"", true, true}, {"b", true, false}} {
		if all(c.name) != c.all || some(c.name) != c.some {
			t.Fatalf("%q: all %v some %v", c.name, all(c.name), some(c.name))
		}
	}
}

func TestQuantizationSearchParamsValidate(t *testing.T) {
	for _, c := range []struct {
		o   *float64
		msg string
	}{
		{nil, ""}, {ptr(1.0), ""}, {ptr(3.5), ""},
		{ptr(0.5), "oversampling: value 0.5 invalid, must be 1.0 or larger"},
		{ptr(math.NaN()), "oversampling: value NaN invalid, must be 1.0 or larger"},
	} {
		err := (&QuantizationSearchParams{Oversampling: c.o}).Validate()
		if (err == nil) != (c.msg == "") || (err != nil && err.Error() != c.msg) {
			t.Fatalf("oversampling %v: %v, want %q", c.o, err, c.msg)
		}
	}
}
