package quota

import "fmt"

// DefaultReleaseMargin is Qdrant's DEFAULT_RELEASE_MARGIN_PERCENT: how far
// below its limit a tripped resource must fall when the config says
// nothing.
const DefaultReleaseMargin = 5

// Config is Qdrant's QuotaConfig: limits that apply only while Enabled; an
// unset limit caps nothing.
type Config struct {
	Enabled                  bool   `json:"enabled"`
	MaxResidentMemoryPercent *uint8 `json:"max_resident_memory_percent,omitempty"`
	MaxDiskUsagePercent      *uint8 `json:"max_disk_usage_percent,omitempty"`
	ReleaseMarginPercent     *uint8 `json:"release_margin_percent,omitempty"`
}

// Validate checks the ranges Qdrant validates: limits in 1..=100, the
// margin in 0..=100. The errors name the field as Qdrant's validator does.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		v    *uint8
		min  uint8
	}{
		{"max_resident_memory_percent", c.MaxResidentMemoryPercent, 1},
		{"max_disk_usage_percent", c.MaxDiskUsagePercent, 1},
		{"release_margin_percent", c.ReleaseMarginPercent, 0},
	} {
		switch {
		case f.v == nil:
		case *f.v < f.min:
			return fmt.Errorf("%s: value %d invalid, must be %d or larger", f.name, *f.v, f.min)
		case *f.v > 100:
			return fmt.Errorf("%s: value %d invalid, must be 100 or smaller", f.name, *f.v)
		}
	}
	return nil
}

// Equal reports whether two configs are the same.
func (c Config) Equal(o Config) bool {
	eq := func(a, b *uint8) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	return c.Enabled == o.Enabled && eq(c.MaxResidentMemoryPercent, o.MaxResidentMemoryPercent) &&
		eq(c.MaxDiskUsagePercent, o.MaxDiskUsagePercent) && eq(c.ReleaseMarginPercent, o.ReleaseMarginPercent)
}

// limits are the limits in force: none while disabled.
func (c Config) limits() (memory, disk *uint8, margin uint8) {
	margin = DefaultReleaseMargin
	if c.ReleaseMarginPercent != nil {
		margin = *c.ReleaseMarginPercent
	}
	if !c.Enabled {
		return nil, nil, margin
	}
	return c.MaxResidentMemoryPercent, c.MaxDiskUsagePercent, margin
}
