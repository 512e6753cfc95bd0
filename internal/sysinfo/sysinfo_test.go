package sysinfo

import (
	"runtime"
	"testing"
)

// TestReaders: on Linux every reader answers, with values that make sense
// together; elsewhere the readers may say they cannot tell.
func TestReaders(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the readers are Linux's")
	}
	rss, ok := ResidentBytes()
	if !ok || rss == 0 {
		t.Fatalf("resident %d %v", rss, ok)
	}
	mem, ok := MemoryBytes()
	if !ok || mem < rss {
		t.Fatalf("memory %d %v (resident %d)", mem, ok, rss)
	}
	used, total, ok := Disk(t.TempDir())
	if !ok || total == 0 || used > total {
		t.Fatalf("disk used %d of %d, %v", used, total, ok)
	}
	if _, _, ok := Disk("/no/such/dir/anywhere"); ok {
		t.Error("disk of a missing path answered")
	}
	if id, _ := OSRelease(); id == "" {
		t.Error("no OS id")
	}
	t.Logf("resident %d, memory %d, disk %d/%d, cpu %q", rss, mem, used, total, CPUFlags())
}
