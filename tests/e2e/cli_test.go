//go:build linux

package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestUnsupportedFlags runs the binary with each flag Qdrant has and Shoal
// cannot carry out: each says so and exits 2 (a usage error, as Qdrant's
// command line parser exits) without opening the storage or a port.
func TestUnsupportedFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"collection snapshot on a cluster", []string{"--snapshot", "/tmp/a.snapshot:a"}, []string{"QDRANT__CLUSTER__ENABLED=true"}, "--snapshot"},
		{"collection snapshot alias on a cluster", []string{"--collection-snapshot=/tmp/a.snapshot:a", "-f"}, []string{"QDRANT__CLUSTER__ENABLED=true"}, "--snapshot"},
		{"storage snapshot on a cluster", []string{"--storage-snapshot", "/tmp/full.snapshot"}, []string{"QDRANT__CLUSTER__ENABLED=true"}, "--storage-snapshot"},
		{"stack trace collector", []string{"--stacktrace"}, nil, "--stacktrace is not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code, storage, port := refusedRun(t, tc.args, tc.env)
			if code != 2 {
				t.Errorf("exit code %d, want 2\n%s", code, out)
			}
			if !strings.Contains(out, tc.want) || !strings.Contains(out, "not supported") {
				t.Errorf("output does not explain %s:\n%s", tc.want, out)
			}
			assertNothingStarted(t, storage, port)
		})
	}
}

// TestHelpIsTruthful checks that --help marks the flags that do nothing or
// are refused, so that it describes what the binary does.
func TestHelpIsTruthful(t *testing.T) {
	cmd := exec.Command(shoalBinary(t), "--help")
	cmd.Dir = t.TempDir()
	out, err := runWithTimeout(cmd, 30*time.Second)
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	// Each flag's paragraph, up to the next flag.
	para := func(flag string) string {
		i := strings.Index(out, flag)
		if i < 0 {
			t.Fatalf("--help does not list %s:\n%s", flag, out)
		}
		rest := out[i:]
		if j := strings.Index(rest[len(flag):], "\n  -"); j >= 0 {
			return rest[:len(flag)+j]
		}
		return rest
	}
	for flag, want := range map[string]string{
		"--snapshot":         "Standalone only",
		"--storage-snapshot": "Standalone only",
		"--stacktrace":       "Not supported",
		"--force-snapshot":   "Replace existing collections",
	} {
		if p := para(flag); !strings.Contains(p, want) {
			t.Errorf("--help on %s does not say %q:\n%s", flag, want, p)
		}
	}
}
