package filter

import (
	"encoding/json"
	"errors"
	"time"
)

// DatetimeRange is `range: {gt, gte, lt, lte}` with date/time bounds
// (Qdrant's Range<DateTimePayloadType>). A payload value matches when it is
// a string that ParseDateTime accepts and the instant lies in the range;
// numbers and strings in other formats never match. Instants compare in
// full (nanosecond) precision, as Qdrant's checker compares chrono values;
// a datetime index that stores microseconds uses ContainsMicros.
type DatetimeRange struct {
	GT, GTE, LT, LTE *time.Time
}

// Contains reports whether t lies in the range.
func (r *DatetimeRange) Contains(t time.Time) bool {
	return (r.GT == nil || t.After(*r.GT)) && (r.GTE == nil || !t.Before(*r.GTE)) &&
		(r.LT == nil || t.Before(*r.LT)) && (r.LTE == nil || !t.After(*r.LTE))
}

// ContainsMicros is Contains for an instant given as microseconds since
// the Unix epoch, Qdrant's datetime index representation; the bounds are
// truncated to microseconds the same way (time.Time.UnixMicro).
func (r *DatetimeRange) ContainsMicros(us int64) bool {
	return (r.GT == nil || us > r.GT.UnixMicro()) && (r.GTE == nil || us >= r.GTE.UnixMicro()) &&
		(r.LT == nil || us < r.LT.UnixMicro()) && (r.LTE == nil || us <= r.LTE.UnixMicro())
}

func (r *DatetimeRange) matchValue(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	t, ok := parseDateTime(s)
	return ok && r.Contains(t)
}

// MarshalJSON writes the bounds that are set, in RFC 3339 with UTC.
func (r *DatetimeRange) MarshalJSON() ([]byte, error) {
	m := map[string]string{}
	for name, b := range map[string]*time.Time{"gt": r.GT, "gte": r.GTE, "lt": r.LT, "lte": r.LTE} {
		if b != nil {
			m[name] = FormatDateTime(*b)
		}
	}
	return json.Marshal(m)
}

// FormatDateTime writes t as RFC 3339 in UTC with as many fractional digits
// as needed; ParseDateTime reads it back to the same instant.
func FormatDateTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

var errDateTime = errors.New("not in a supported date/time format, please use RFC 3339")

// ParseDateTime parses a date/time the way Qdrant's DateTimePayloadType
// does (its FromStr, lib/segment/src/types.rs), returning the instant in
// UTC. Accepted forms:
//
//	2023-02-08T10:49:00Z            RFC 3339; "t" or " " may replace "T", "z" the "Z"
//	2023-02-08T10:49:00.123+01:00   fractional seconds (up to 9 digits kept), offsets
//	2023-02-08T10:49:00+0100        offset without colon
//	2023-02-08T10:49:00+01          offset hours only
//	2023-02-08 10:49:00 +01:00      spaces before the offset
//	2023-02-08T10:49:00             no offset: UTC
//	2023-02-08T10:49                minutes only, no offset: UTC
//	2023-02-08 10:49                (also with "t")
//	2023-02-08                      date only: midnight UTC
//
// Qdrant documents "2023-02-08T10:49" (without timezone and seconds) among
// its datetime forms (payload.md, "Datetime"), and its parser tries
// "%Y-%m-%d %H:%M" after the forms with seconds; Shoal takes the minutes-only
// form with any of the date-time separators, as the documentation promises.
//
// Like chrono's numeric fields, month, day, hour, minute and second take
// one or two digits and the year one to four. Years outside 0000-9999
// (signed or longer, which chrono allows), also after applying the offset,
// are refused so that every parsed instant formats back to an accepted
// string. Second 60 (a leap second) is
// the first second of the next minute. The error, if any, does not name s.
func ParseDateTime(s string) (time.Time, error) {
	t, ok := parseDateTime(s)
	if !ok {
		return time.Time{}, errDateTime
	}
	return t, nil
}

// parseDateTime is ParseDateTime without an error value; it does not
// allocate, so the checker can try every string it meets.
func parseDateTime(s string) (time.Time, bool) {
	p := dtParser{s: s}
	year, ok1 := p.number(1, 4)
	ok2 := p.byte('-')
	month, ok3 := p.number(1, 2)
	ok4 := p.byte('-')
	day, ok5 := p.number(1, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return time.Time{}, false
	}
	if p.done() {
		return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), true
	}
	sep := p.s[p.i]
	if sep != 'T' && sep != 't' && sep != ' ' {
		return time.Time{}, false
	}
	p.i++
	hour, ok1 := p.number(1, 2)
	ok2 = p.byte(':')
	minute, ok3 := p.number(1, 2)
	if !(ok1 && ok2 && ok3) || hour > 23 || minute > 59 {
		return time.Time{}, false
	}
	if p.done() {
		// Without seconds there is no offset: UTC.
		return time.Date(year, time.Month(month), day, hour, minute, 0, 0, time.UTC), true
	}
	if !p.byte(':') {
		return time.Time{}, false
	}
	sec, ok := p.number(1, 2)
	if !ok || sec > 60 {
		return time.Time{}, false
	}
	nsec := 0
	if p.byte('.') {
		digits := 0
		for !p.done() && isDigit(p.s[p.i]) {
			if digits < 9 {
				nsec = nsec*10 + int(p.s[p.i]-'0')
			}
			digits++
			p.i++
		}
		if digits == 0 {
			return time.Time{}, false
		}
		for ; digits < 9; digits++ {
			nsec *= 10
		}
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if !p.done() {
		for !p.done() && p.s[p.i] == ' ' {
			p.i++
		}
		offset, ok := p.offset()
		if !ok || !p.done() {
			return time.Time{}, false
		}
		t = t.Add(-time.Duration(offset) * time.Second)
	}
	// An offset or a leap second can carry the instant out of 0000-9999,
	// where it would not format back to an accepted form.
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, false
	}
	return t, true
}

type dtParser struct {
	s string
	i int
}

func (p *dtParser) done() bool { return p.i >= len(p.s) }

func (p *dtParser) byte(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// number reads min to max decimal digits.
func (p *dtParser) number(min, max int) (int, bool) {
	n, digits := 0, 0
	for digits < max && p.i < len(p.s) && isDigit(p.s[p.i]) {
		n = n*10 + int(p.s[p.i]-'0')
		digits++
		p.i++
	}
	return n, digits >= min
}

// offset reads Z, z, ±HH, ±HHMM or ±HH:MM and returns it in seconds east
// of UTC.
func (p *dtParser) offset() (int, bool) {
	if p.byte('Z') || p.byte('z') {
		return 0, true
	}
	sign := 1
	switch {
	case p.byte('+'):
	case p.byte('-'):
		sign = -1
	default:
		return 0, false
	}
	h, ok := p.fixed2()
	if !ok || h > 23 {
		return 0, false
	}
	if p.done() {
		return sign * h * 3600, true
	}
	p.byte(':')
	m, ok := p.fixed2()
	if !ok || m > 59 {
		return 0, false
	}
	return sign * (h*3600 + m*60), true
}

// fixed2 reads exactly two digits.
func (p *dtParser) fixed2() (int, bool) {
	if p.i+2 > len(p.s) || !isDigit(p.s[p.i]) || !isDigit(p.s[p.i+1]) {
		return 0, false
	}
	n := int(p.s[p.i]-'0')*10 + int(p.s[p.i+1]-'0')
	p.i += 2
	return n, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
