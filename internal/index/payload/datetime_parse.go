package payload

// ParseDatetime parses a datetime payload value or range bound the way
// Qdrant's DateTimePayloadType::from_str does (lib/segment/src/types.rs)
// and returns microseconds since the Unix epoch, UTC. Accepted:
//
//	2023-02-08T10:49:00Z            RFC 3339 (T, t or a space between date and time)
//	2023-02-08T10:49:00.123+01:00   fractional seconds, any number of digits
//	2023-02-08T10:49:00+0100        offsets ±HH, ±HHMM, ±HH:MM, Z or z
//	2023-02-08 10:49:00 +01:00      one space before the offset
//	2023-02-08T10:49:00             no offset: UTC
//	2023-02-08 10:49                minutes only (with a space, as Qdrant)
//	2023-02-08                      midnight UTC
//
// Digits beyond microseconds are truncated, as Qdrant's timestamp_micros.
func ParseDatetime(s string) (int64, bool) {
	p := dtParser{s: s}
	year, ok1 := p.digits(4)
	ok2 := p.lit('-')
	month, ok3 := p.digits(2)
	ok4 := p.lit('-')
	day, ok5 := p.digits(2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return 0, false
	}
	days := daysFromCivil(year, month, day)
	if p.done() {
		return days * 86400 * 1e6, true
	}
	sep := p.next()
	if sep != 'T' && sep != 't' && sep != ' ' {
		return 0, false
	}
	hour, ok1 := p.digits(2)
	ok2 = p.lit(':')
	minute, ok3 := p.digits(2)
	if !(ok1 && ok2 && ok3) || hour > 23 || minute > 59 {
		return 0, false
	}
	secs := days*86400 + int64(hour)*3600 + int64(minute)*60
	if p.done() {
		// "%Y-%m-%d %H:%M" only, with a space.
		return secs * 1e6, sep == ' '
	}
	if !p.lit(':') {
		return 0, false
	}
	sec, ok := p.digits(2)
	if !ok || sec > 60 {
		return 0, false
	}
	secs += int64(sec)
	var micros int64
	if p.peek() == '.' {
		p.next()
		n := 0
		for !p.done() && isDigit(p.peek()) {
			d := int64(p.next() - '0')
			if n < 6 {
				micros = micros*10 + d
			}
			n++
		}
		if n == 0 {
			return 0, false
		}
		for ; n < 6; n++ {
			micros *= 10
		}
	}
	if p.done() {
		return secs*1e6 + micros, true
	}
	if p.peek() == ' ' {
		p.next()
	}
	off, ok := p.offset()
	if !ok || !p.done() {
		return 0, false
	}
	return (secs-off)*1e6 + micros, true
}

type dtParser struct {
	s string
	i int
}

func (p *dtParser) done() bool { return p.i >= len(p.s) }

func (p *dtParser) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.i]
}

func (p *dtParser) next() byte {
	c := p.peek()
	p.i++
	return c
}

func (p *dtParser) lit(c byte) bool {
	if p.peek() != c || p.done() {
		return false
	}
	p.i++
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digits reads exactly n decimal digits.
func (p *dtParser) digits(n int) (int, bool) {
	v := 0
	for k := 0; k < n; k++ {
		if p.done() || !isDigit(p.peek()) {
			return 0, false
		}
		v = v*10 + int(p.next()-'0')
	}
	return v, true
}

// offset reads Z, z, ±HH, ±HHMM or ±HH:MM and returns it in seconds east.
func (p *dtParser) offset() (int64, bool) {
	c := p.next()
	if c == 'Z' || c == 'z' {
		return 0, true
	}
	if c != '+' && c != '-' {
		return 0, false
	}
	h, ok := p.digits(2)
	if !ok || h > 23 {
		return 0, false
	}
	m := 0
	if !p.done() {
		p.lit(':')
		if m, ok = p.digits(2); !ok || m > 59 {
			return 0, false
		}
	}
	off := int64(h)*3600 + int64(m)*60
	if c == '-' {
		off = -off
	}
	return off, true
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic
// Gregorian date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
