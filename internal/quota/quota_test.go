package quota

import (
	"encoding/json"
	"strings"
	"testing"
)

func u8(v uint8) *uint8 { return &v }

// fixed readers: memory at mem% and disk at disk% (negative: unknown).
func readers(mem, disk *int) Readers {
	return Readers{
		Memory: func() (uint64, uint64, bool) { return uint64(max(*mem, 0)), 100, *mem >= 0 },
		Disk:   func() (uint64, uint64, bool) { return uint64(max(*disk, 0)) * 1000, 100000, *disk >= 0 },
	}
}

// TestGuardReleaseMargin is Qdrant's hysteresis (lib/storage/src/quota):
// reaching the limit trips a resource, and it refuses work until it falls
// the release margin below the limit; the margin applies on the way out.
func TestGuardReleaseMargin(t *testing.T) {
	mem, disk := -1, 80
	g := NewGuard(readers(&mem, &disk))
	g.SetConfig(Config{Enabled: true, MaxDiskUsagePercent: u8(90)})
	for _, step := range []struct {
		disk    int
		refused bool
		msg     string
	}{
		{80, false, ""},
		{90, true, "Disk usage is at 90% of total capacity, exceeding the configured limit of 90%. Help: Reduce disk usage (e.g. delete points or drop collections), or raise `max_disk_usage_percent` in the global quota config."},
		{87, true, "has to fall below 85%"},
		{85, true, "has to fall below 85%"},
		{84, false, ""},
		{88, false, ""},
		{95, true, "at 95%"},
	} {
		disk = step.disk
		err := g.Check()
		if (err != nil) != step.refused || err != nil && !strings.Contains(err.Error(), step.msg) {
			t.Fatalf("disk at %d%%: %v, want refused %v (%q)", step.disk, err, step.refused, step.msg)
		}
		ex := g.Exceeded()
		if ex.DiskUsage == nil || *ex.DiskUsage != step.refused || ex.ResidentMemory != nil {
			t.Fatalf("disk at %d%%: exceeded %+v", step.disk, ex)
		}
	}
}

// TestGuardOnlyWhenEnabled: limits apply only while enabled; an unknown
// reading enforces (and reports) nothing and holds no verdict; a margin of
// 0 releases as soon as the reading is under the limit, and a margin wider
// than the limit still releases at 1%.
func TestGuardOnlyWhenEnabled(t *testing.T) {
	mem, disk := 50, 50
	g := NewGuard(readers(&mem, &disk))
	g.SetConfig(Config{Enabled: false, MaxResidentMemoryPercent: u8(1), MaxDiskUsagePercent: u8(1)})
	if err := g.Check(); err != nil || g.Exceeded() != (Exceeded{}) {
		t.Fatalf("disabled quota: %v %+v", err, g.Exceeded())
	}
	g.SetConfig(Config{Enabled: true, MaxResidentMemoryPercent: u8(40), ReleaseMarginPercent: u8(0)})
	if err := g.Check(); err == nil || !strings.Contains(err.Error(), "Resident memory usage is at 50% of total memory") ||
		!strings.Contains(err.Error(), "`max_resident_memory_percent`") {
		t.Fatalf("memory over its limit: %v", err)
	}
	mem = 39
	if err := g.Check(); err != nil {
		t.Fatalf("margin 0: %v", err)
	}
	mem = -1 // unreadable
	if err := g.Check(); err != nil || g.Exceeded().ResidentMemory != nil {
		t.Fatalf("unreadable memory: %v %+v", err, g.Exceeded())
	}
	g.SetConfig(Config{Enabled: true, MaxResidentMemoryPercent: u8(3), ReleaseMarginPercent: u8(50)})
	mem = 3
	if g.Check() == nil {
		t.Fatal("3% under a 3% limit passed")
	}
	mem = 1
	if g.Check() == nil {
		t.Fatal("1% passed: the threshold never goes below 1%")
	}
	mem = 0
	if err := g.Check(); err != nil {
		t.Fatalf("0%% refused: %v", err)
	}
	if u := g.Usage(); u.ResidentMemoryPercent == nil || *u.ResidentMemoryPercent != 0 || u.DiskUsagePercent == nil || *u.DiskUsagePercent != 50 {
		t.Errorf("usage %+v", u)
	}
}

// TestConfig: ranges as Qdrant validates them, and the JSON shape.
func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		c   Config
		err string
	}{
		{Config{}, ""},
		{Config{Enabled: true, MaxResidentMemoryPercent: u8(100), MaxDiskUsagePercent: u8(1), ReleaseMarginPercent: u8(0)}, ""},
		{Config{MaxResidentMemoryPercent: u8(0)}, "max_resident_memory_percent: value 0 invalid, must be 1 or larger"},
		{Config{MaxDiskUsagePercent: u8(101)}, "max_disk_usage_percent: value 101 invalid, must be 100 or smaller"},
		{Config{ReleaseMarginPercent: u8(200)}, "release_margin_percent: value 200 invalid, must be 100 or smaller"},
	} {
		err := tc.c.Validate()
		if (err == nil) != (tc.err == "") || err != nil && err.Error() != tc.err {
			t.Errorf("%+v: %v, want %q", tc.c, err, tc.err)
		}
	}
	b, _ := json.Marshal(Config{Enabled: true, MaxDiskUsagePercent: u8(80)})
	if string(b) != `{"enabled":true,"max_disk_usage_percent":80}` {
		t.Errorf("json %s", b)
	}
	if !(Config{MaxDiskUsagePercent: u8(3)}).Equal(Config{MaxDiskUsagePercent: u8(3)}) || (Config{}).Equal(Config{ReleaseMarginPercent: u8(5)}) {
		t.Error("Equal")
	}
}
