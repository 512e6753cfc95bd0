package payload

import "github.com/shoaldb/shoal/internal/filter"

// ParseDatetime parses a datetime payload value or range bound as
// microseconds since the epoch. It is the filter package's parser, so that
// the index and a scan agree on every string.
func ParseDatetime(s string) (int64, bool) {
	t, err := filter.ParseDateTime(s)
	if err != nil {
		return 0, false
	}
	return t.UnixMicro(), true
}
