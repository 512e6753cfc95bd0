//go:build linux

package e2e

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// refusedRun runs the binary with args and extra environment in a fresh
// working directory and returns its output and exit code; it fails the
// test if the process does not exit by itself. storage is where the
// process was told to keep its data.
func refusedRun(t *testing.T, args, env []string) (out string, code int, storage string, port int) {
	t.Helper()
	dir := t.TempDir()
	storage = filepath.Join(dir, "storage")
	port = freePort(t)
	cmd := exec.Command(shoalBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(baseEnv(),
		"QDRANT__STORAGE__STORAGE_PATH="+storage,
		"QDRANT__SERVICE__HOST=127.0.0.1",
		"QDRANT__SERVICE__HTTP_PORT="+strconv.Itoa(port))
	cmd.Env = append(cmd.Env, env...)
	out, err := runWithTimeout(cmd, 30*time.Second)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out, 0, storage, port
	case errors.As(err, &exit):
		return out, exit.ExitCode(), storage, port
	}
	t.Fatalf("shoal %s: %v\n%s", strings.Join(args, " "), err, out)
	return "", 0, "", 0
}

// assertNothingStarted checks that a refused start left no trace: no
// storage directory and nothing listening.
func assertNothingStarted(t *testing.T, storage string, port int) {
	t.Helper()
	if _, err := os.Stat(storage); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused start touched the storage %s: %v", storage, err)
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second); err == nil {
		c.Close()
		t.Errorf("something listens on port %d after a refused start", port)
	}
}

// TestConfigRefusesUnbuiltFeatures checks that a setting turning on a
// feature Shoal does not have stops the real binary with an error naming
// the key and its variable, from the environment and from a file.
func TestConfigRefusesUnbuiltFeatures(t *testing.T) {
	tlsFile := filepath.Join(t.TempDir(), "tls.yaml")
	writeFile(t, tlsFile, "service:\n  enable_tls: true\n")
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want []string
	}{
		{"TLS from the environment", nil, []string{"QDRANT__SERVICE__ENABLE_TLS=true"},
			[]string{"service.enable_tls", "QDRANT__SERVICE__ENABLE_TLS"}},
		{"TLS from a file", []string{"--config-path", tlsFile}, nil,
			[]string{"service.enable_tls", "QDRANT__SERVICE__ENABLE_TLS"}},
		{"JWT RBAC from the environment", nil, []string{"QDRANT__SERVICE__API_KEY=secret", "QDRANT__SERVICE__JWT_RBAC=true"},
			[]string{"service.jwt_rbac", "QDRANT__SERVICE__JWT_RBAC"}},
		{"audit log from the environment", nil, []string{"QDRANT__AUDIT__ENABLED=true"},
			[]string{"audit.enabled", "QDRANT__AUDIT__ENABLED"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code, storage, port := refusedRun(t, tc.args, tc.env)
			if code == 0 {
				t.Fatalf("shoal exited 0; want a refusal\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not name %s:\n%s", w, out)
				}
			}
			assertNothingStarted(t, storage, port)
		})
	}
}

// TestUnknownEnvironmentKeyWarned checks that a QDRANT__ variable naming no
// key is warned about as an unknown file key is, and does not stop the
// server.
func TestUnknownEnvironmentKeyWarned(t *testing.T) {
	s := newServer(t)
	s.env["QDRANT__SERVICE__NO_SUCH_KEY"] = "1"
	s.env["QDRANT__SERVICE__JWT_RBAC"] = "false" // Qdrant's default: accepted silently
	s.start()
	if len(s.logLines("level=WARN", "unsupported config key ignored", "QDRANT__SERVICE__NO_SUCH_KEY")) == 0 {
		t.Errorf("unknown variable not warned about:\n%s", s.lastStartLog())
	}
	if lines := s.logLines("JWT_RBAC"); len(lines) != 0 {
		t.Errorf("jwt_rbac=false is Qdrant's default and needs no warning: %q", lines)
	}
	if code := s.stop(); code != 0 {
		t.Errorf("exit code after SIGTERM: %d", code)
	}
}
