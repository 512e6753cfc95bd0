package payload

import (
	"slices"
	"testing"
	"time"
)

func TestParseDatetime(t *testing.T) {
	utc := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMicro()
	}
	cases := []struct {
		in   string
		want int64
	}{
		{"2023-02-08T10:49:00Z", utc("2023-02-08T10:49:00Z")},
		{"2023-02-08t10:49:00z", utc("2023-02-08T10:49:00Z")},
		{"2023-02-08 10:49:00Z", utc("2023-02-08T10:49:00Z")},
		{"2023-02-08T10:49:00+01:00", utc("2023-02-08T09:49:00Z")},
		{"2023-02-08T10:49:00-0230", utc("2023-02-08T13:19:00Z")},
		{"2023-02-08T10:49:00+01", utc("2023-02-08T09:49:00Z")},
		{"2023-02-08 10:49:00 +01:00", utc("2023-02-08T09:49:00Z")},
		{"2023-02-08T10:49:00.123456789Z", utc("2023-02-08T10:49:00.123456Z")},
		{"2023-02-08T10:49:00.5", utc("2023-02-08T10:49:00.5Z")},
		{"2023-02-08T10:49:00", utc("2023-02-08T10:49:00Z")},
		{"2023-02-08 10:49:00.25", utc("2023-02-08T10:49:00.25Z")},
		{"2023-02-08 10:49", utc("2023-02-08T10:49:00Z")},
		{"2023-02-08T10:49", utc("2023-02-08T10:49:00Z")},
		{"2023-02-08", utc("2023-02-08T00:00:00Z")},
		{"2024-02-29", utc("2024-02-29T00:00:00Z")},
		{"1969-12-31T23:59:59.5Z", -500000},
		{"0001-01-01T00:00:00Z", utc("0001-01-01T00:00:00Z")},
		{"9999-12-31T23:59:59Z", utc("9999-12-31T23:59:59Z")},
		{"2023-02-08T23:59:60Z", utc("2023-02-09T00:00:00Z")},
	}
	for _, c := range cases {
		got, ok := ParseDatetime(c.in)
		if !ok || got != c.want {
			t.Errorf("%q: got %d %v, want %d", c.in, got, ok, c.want)
		}
	}
	bad := []string{
		"", "2023", "2023-02", "2023-13-01", "2023-02-29", "2023-04-31",
		"2023-02-08T", "2023-02-08T10", "2023-02-08T10:49Z", "2023-02-08T24:00:00", "2023-02-08T10:60:00",
		"2023-02-08T10:49:00.", "2023-02-08T10:49:00+", "2023-02-08T10:49:00+1", "2023-02-08T10:49:00+01:",
		"2023-02-08T10:49:00+24:00", "2023-02-08T10:49:00 UTC", "2023-02-08T10:49:00Zx", "2023-02-08x",
		"２０２３-02-08", "2023-02-08T10:49:61Z",
	}
	for _, in := range bad {
		if got, ok := ParseDatetime(in); ok {
			t.Errorf("%q: accepted as %d", in, got)
		}
	}
}

func TestDatetimeIndex(t *testing.T) {
	x := NewDatetimeIndex(mustSchema(t, `"datetime"`))
	x.Add(0, []any{"2023-02-08T10:49:00Z"})
	x.Add(1, []any{"2023-02-08", "not a date", num("5"), "2023-02-09 00:00"})
	x.Add(2, []any{"2023-02-08T11:49:00+01:00"}) // same instant as point 0
	x.Add(3, []any{"garbage"})
	if x.Points() != 3 || x.Values() != 4 {
		t.Fatalf("points %d values %d", x.Points(), x.Values())
	}
	at := func(s string) *int64 {
		v, ok := ParseDatetime(s)
		if !ok {
			t.Fatal(s)
		}
		return &v
	}
	check := func(r TimeRange, want ...uint32) {
		t.Helper()
		if got := offs(x.Range(r)); !slices.Equal(got, append([]uint32{}, want...)) {
			t.Errorf("range: got %v want %v", got, want)
		}
	}
	check(TimeRange{GTE: at("2023-02-08T10:49:00Z")}, 0, 1, 2)
	check(TimeRange{GT: at("2023-02-08T10:49:00Z")}, 1)
	check(TimeRange{LT: at("2023-02-08T10:49:00Z")}, 1)
	check(TimeRange{LTE: at("2023-02-08T10:49:00Z"), GT: at("2023-02-08")}, 0, 2)
	check(TimeRange{}, 0, 1, 2)

	var order []uint32
	x.Ordered(false, TimeRange{}, func(_ int64, off uint32) bool {
		order = append(order, off)
		return true
	})
	if !slices.Equal(order, []uint32{1, 2, 0, 1}) {
		t.Errorf("descending order %v", order)
	}
	x.Remove(1)
	check(TimeRange{}, 0, 2)
	y := roundTrip(t, x).(*DatetimeIndex)
	if got := offs(y.Range(TimeRange{})); !slices.Equal(got, []uint32{0, 2}) {
		t.Errorf("after round trip: %v", got)
	}
}
