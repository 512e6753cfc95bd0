package clustertest

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestClockOffset: a peer restarted with a clock offset runs in a time
// namespace whose monotonic and boot clocks are moved by it (what the
// fault suite's clock-jump does), and serves as before.
func TestClockOffset(t *testing.T) {
	if !TimeNamespaces() {
		t.Skip("no time namespaces here (unshare --time needs root on Linux 5.6+)")
	}
	c := Start(t, 1, Options{})
	p := c.Peers[0]
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	p.SetClockOffset(2 * 24 * time.Hour)
	if err := p.Start(""); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(p, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.Pid()) + "/timens_offsets")
	if err != nil {
		t.Fatal(err)
	}
	secs := strconv.Itoa(2 * 24 * 3600)
	if got := strings.Join(strings.Fields(string(b)), " "); !strings.Contains(got, "monotonic "+secs+" 0") || !strings.Contains(got, "boottime "+secs+" 0") {
		t.Fatalf("offsets %q, want %s s on the monotonic and boot clocks", b, secs)
	}
	if _, err := p.Cluster(); err != nil {
		t.Fatalf("the moved peer does not answer: %v", err)
	}
}
