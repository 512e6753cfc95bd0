package filter

import (
	"testing"
	"time"
)

func TestParseDateTime(t *testing.T) {
	good := map[string]string{
		"2023-02-08T10:49:00Z":                "2023-02-08T10:49:00Z",
		"2023-02-08t10:49:00z":                "2023-02-08T10:49:00Z",
		"2023-02-08 10:49:00Z":                "2023-02-08T10:49:00Z",
		"2023-02-08T10:49:00.5Z":              "2023-02-08T10:49:00.5Z",
		"2023-02-08T10:49:00.123456789Z":      "2023-02-08T10:49:00.123456789Z",
		"2023-02-08T10:49:00.1234567891234Z":  "2023-02-08T10:49:00.123456789Z",
		"2023-02-08T10:49:00+01:00":           "2023-02-08T09:49:00Z",
		"2023-02-08T10:49:00-05:30":           "2023-02-08T16:19:00Z",
		"2023-02-08T10:49:00+0100":            "2023-02-08T09:49:00Z",
		"2023-02-08T10:49:00+01":              "2023-02-08T09:49:00Z",
		"2023-02-08 10:49:00.25-0200":         "2023-02-08T12:49:00.25Z",
		"2023-02-08 10:49:00 +01:00":          "2023-02-08T09:49:00Z",
		"2023-02-09T00:30:00+01:00":           "2023-02-08T23:30:00Z",
		"2023-02-08T10:49:00":                 "2023-02-08T10:49:00Z",
		"2023-02-08T10:49:00.001":             "2023-02-08T10:49:00.001Z",
		"2023-02-08 10:49:00":                 "2023-02-08T10:49:00Z",
		"2023-02-08 10:49":                    "2023-02-08T10:49:00Z",
		"2023-02-08T10:49":                    "2023-02-08T10:49:00Z",
		"2023-02-08t10:49":                    "2023-02-08T10:49:00Z",
		"2023-2-8T9:05":                       "2023-02-08T09:05:00Z",
		"2023-02-08":                          "2023-02-08T00:00:00Z",
		"2023-2-8":                            "2023-02-08T00:00:00Z",
		"2024-02-29":                          "2024-02-29T00:00:00Z",
		"2000-02-29T23:59:59Z":                "2000-02-29T23:59:59Z",
		"0023-01-01":                          "0023-01-01T00:00:00Z",
		"1969-12-31T23:59:59.999999Z":         "1969-12-31T23:59:59.999999Z",
		"2016-12-31T23:59:60Z":                "2017-01-01T00:00:00Z",
		"9999-12-31T23:59:59.999999999+00:00": "9999-12-31T23:59:59.999999999Z",
		"0000-01-01T01:00:00+01:00":           "0000-01-01T00:00:00Z",
	}
	for in, want := range good {
		got, err := ParseDateTime(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if s := FormatDateTime(got); s != want {
			t.Errorf("%q = %s, want %s", in, s, want)
		}
		if got.Location() != time.UTC {
			t.Errorf("%q: location %v", in, got.Location())
		}
		again, err := ParseDateTime(FormatDateTime(got))
		if err != nil || !again.Equal(got) {
			t.Errorf("%q does not round-trip: %v %v", in, again, err)
		}
	}
	bad := []string{
		"", "2023", "2023-02", "2023-02-08T", "2023-02-08T10", "2023-02-08T10:", "2023-02-08T10:49Z", "2023-02-08T10:49+01:00",
		"2023-02-08 10:49Z", "2023-02-08 10:49 ", "2023-02-08T10:49:00.", "2023-02-08T10:49:00.Z",
		"2023-02-08T10:49:00+1", "2023-02-08T10:49:00+01:", "2023-02-08T10:49:00+01:0", "2023-02-08T10:49:00+24:00",
		"2023-02-08T10:49:00+01:60", "2023-02-08T10:49:00 ", "2023-02-08T10:49:00ZZ", "2023-02-08X10:49:00Z",
		"2023-13-01", "2023-00-01", "2023-02-29", "2023-04-31", "2023-02-00", "2023-02-08T24:00:00Z",
		"2023-02-08T10:60:00Z", "2023-02-08T10:49:61Z", "20230-02-08", "+2023-02-08", "-0001-01-01",
		"2023-02-08Z", " 2023-02-08", "0000-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00", "9999-12-31T23:59:60Z", "2023/02/08", "1675850940", "yesterday", "2023-02-08T10:49:00UTC",
	}
	for _, in := range bad {
		if got, err := ParseDateTime(in); err == nil {
			t.Errorf("%q parsed to %v", in, got)
		}
	}
}

func TestDatetimeRange(t *testing.T) {
	r := `{"key": "d", "range": {"gte": "2023-02-08T10:00:00Z", "lt": "2023-02-09"}}`
	runEval(t, []evalCase{
		{"rfc3339", r, `{"d": "2023-02-08T10:49:00Z"}`, true},
		{"naive is utc", r, `{"d": "2023-02-08 10:49:00"}`, true},
		{"minutes", r, `{"d": "2023-02-08 10:49"}`, true},
		{"offset same instant", r, `{"d": "2023-02-08T11:49:00+01:00"}`, true},
		{"offset earlier instant", r, `{"d": "2023-02-08T10:49:00+0100"}`, false},
		{"lower bound inclusive", r, `{"d": "2023-02-08T10:00:00Z"}`, true},
		{"just below", r, `{"d": "2023-02-08T09:59:59.999999999Z"}`, false},
		{"upper bound exclusive", r, `{"d": "2023-02-09"}`, false},
		{"date only is midnight", r, `{"d": "2023-02-08"}`, false},
		{"offset crosses day back", r, `{"d": "2023-02-09T00:30:00+01:00"}`, true},
		{"offset crosses day forward", r, `{"d": "2023-02-08T23:30:00-01:00"}`, false},
		{"lowercase", r, `{"d": "2023-02-08t10:49:00z"}`, true},
		{"array any", r, `{"d": ["x", 5, "2023-02-08T12:00:00Z"]}`, true},
		{"array none", r, `{"d": ["2023-01-01", "2024-01-01"]}`, false},
		{"unix number", r, `{"d": 1675853340}`, false},
		{"not a date", r, `{"d": "not a date"}`, false},
		{"missing", r, `{}`, false},
		{"null", r, `{"d": null}`, false},
		{"path", `{"key": "a[].d", "range": {"gt": "2020-01-01"}}`, `{"a": [{"d": "2019-12-31"}, {"d": "2020-01-01T00:00:01Z"}]}`, true},
		{"nanosecond precision", `{"key": "d", "range": {"gt": "2023-02-08T10:00:00.0000005Z"}}`, `{"d": "2023-02-08T10:00:00.000000999Z"}`, true},
		{"nanosecond precision below", `{"key": "d", "range": {"gt": "2023-02-08T10:00:00.0000005Z"}}`, `{"d": "2023-02-08T10:00:00.0000004Z"}`, false},
		{"or with numeric match", `{"key": "d", "range": {"gt": "2020-01-01"}, "match": {"value": 3}}`, `{"d": 3}`, true},
	})
}

func TestDatetimeRangeMicros(t *testing.T) {
	ts := func(s string) *time.Time {
		v, err := ParseDateTime(s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	r := &DatetimeRange{GTE: ts("2023-02-08T10:00:00.0000005Z"), LT: ts("2023-02-09T00:00:00Z")}
	at := ts("2023-02-08T10:00:00Z").UnixMicro()
	// The index sees microseconds: the lower bound truncates to the same
	// microsecond as the value, which therefore matches there but not in
	// full precision.
	if !r.ContainsMicros(at) || r.Contains(*ts("2023-02-08T10:00:00Z")) {
		t.Fatal("microsecond truncation")
	}
	if r.ContainsMicros(ts("2023-02-09T00:00:00Z").UnixMicro()) || r.ContainsMicros(at-1) {
		t.Fatal("micro bounds")
	}
	if (&DatetimeRange{}).ContainsMicros(-1) != true {
		t.Fatal("unbounded")
	}
}
