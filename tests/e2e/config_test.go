//go:build linux

package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestConfigFileAndEnv starts the server with config/config.yaml in its
// working directory, a --config-path file and environment overrides, and
// checks the order Qdrant documents: later sources win, the environment
// last; unknown keys are logged, not fatal.
func TestConfigFileAndEnv(t *testing.T) {
	dir := t.TempDir() // before newServer, so it is removed after the server is stopped
	s := newServer(t)
	basePort, filePort := freePort(t), freePort(t)
	fileStorage := filepath.Join(dir, "file-storage")

	// Lowest layer: config/config.yaml relative to the working directory.
	writeFile(t, filepath.Join(s.workdir, "config", "config.yaml"), fmt.Sprintf(`
service:
  http_port: %d
storage:
  storage_path: %s
  optimizers:
    deleted_threshold: 0.3
    flush_interval_sec: 9
`, basePort, filepath.Join(dir, "base-storage")))

	// --config-path: overrides config/config.yaml, and has unknown keys.
	custom := filepath.Join(dir, "conf", "custom.yaml")
	writeFile(t, custom, fmt.Sprintf(`
log_level: INFO
service:
  http_port: %d
  shiny_new_option: 42
storage:
  storage_path: %s
  optimizers:
    flush_interval_sec: 1
not_a_section:
  nested: true
`, filePort, fileStorage))

	// The environment: the port (s.httpPort, set by the harness) and the log
	// level win over both files; the storage path comes from the file.
	s.args = []string{"--config-path", custom}
	s.env["QDRANT__STORAGE__STORAGE_PATH"] = ""
	s.env["QDRANT__LOG_LEVEL"] = "TRACE,raft=info"
	s.start() // waits for /readyz on the environment's port

	for _, p := range []int{basePort, filePort} {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p), time.Second); err == nil {
			c.Close()
			t.Errorf("something listens on port %d from a config file; the environment should win", p)
		}
	}
	for _, key := range []string{"service.shiny_new_option", "not_a_section"} {
		if len(s.logLines("level=WARN", key)) == 0 {
			t.Errorf("unknown key %s not logged; log:\n%s", key, s.lastStartLog())
		}
	}

	s.must("PUT", "/collections/cfg", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Cosine"}}, nil)
	if _, err := os.Stat(filepath.Join(fileStorage, "collections", "cfg")); err != nil {
		t.Errorf("collection not stored under storage_path from --config-path: %v", err)
	}
	var info struct {
		Config struct {
			OptimizerConfig struct {
				DeletedThreshold float64 `json:"deleted_threshold"`
				FlushIntervalSec int     `json:"flush_interval_sec"`
			} `json:"optimizer_config"`
		} `json:"config"`
	}
	s.must("GET", "/collections/cfg", nil, &info)
	if got := info.Config.OptimizerConfig; got.DeletedThreshold != 0.3 || got.FlushIntervalSec != 1 {
		t.Errorf("optimizer defaults of a new collection: %+v, want deleted_threshold 0.3 (config/config.yaml) and flush_interval_sec 1 (--config-path)", got)
	}
	if code := s.stop(); code != 0 {
		t.Errorf("exit code after SIGTERM: %d", code)
	}
}

// TestConfigErrors checks that what cannot work stops the server with a
// message instead of starting it half-configured.
func TestConfigErrors(t *testing.T) {
	bin := shoalBinary(t)
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"missing --config-path", []string{"--config-path", "/nonexistent/shoal.yaml"}, nil, "nonexistent"},
		{"bad port type", nil, []string{"QDRANT__SERVICE__HTTP_PORT=not-a-port"}, "HTTP_PORT"},
		{"unknown flag", []string{"--no-such-flag"}, nil, "no-such-flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, tc.args...)
			cmd.Dir = t.TempDir()
			cmd.Env = append(baseEnv(), "QDRANT__STORAGE__STORAGE_PATH="+filepath.Join(cmd.Dir, "storage"), "QDRANT__SERVICE__HTTP_PORT="+strconv.Itoa(freePort(t)))
			cmd.Env = append(cmd.Env, tc.env...)
			out, err := runWithTimeout(cmd, 30*time.Second)
			if err == nil {
				t.Fatalf("shoal started; want an error\n%s", out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("error output does not mention %q:\n%s", tc.want, out)
			}
		})
	}
}

// TestHelpAndVersion checks the flags an operator looks up first.
func TestHelpAndVersion(t *testing.T) {
	bin := shoalBinary(t)
	cmd := exec.Command(bin, "--help")
	cmd.Dir = t.TempDir()
	out, err := runWithTimeout(cmd, 30*time.Second)
	if err != nil {
		t.Fatalf("shoal --help: %v\n%s", err, out)
	}
	for _, flag := range []string{"--config-path", "--uri", "--bootstrap", "--snapshot", "QDRANT__SERVICE__HTTP_PORT"} {
		if !strings.Contains(out, flag) {
			t.Errorf("--help does not mention %s:\n%s", flag, out)
		}
	}
	cmd = exec.Command(bin, "--version")
	cmd.Dir = t.TempDir()
	out, err = runWithTimeout(cmd, 30*time.Second)
	if err != nil || !strings.HasPrefix(out, "shoal ") {
		t.Errorf("shoal --version: %v\n%s", err, out)
	}
}

// runWithTimeout runs cmd and returns its combined output; a command that
// does not exit in time is killed and reported as an error.
func runWithTimeout(cmd *exec.Cmd, timeout time.Duration) (string, error) {
	var buf strings.Builder
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return buf.String(), err
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		return buf.String(), fmt.Errorf("still running after %v (killed)", timeout)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCollectionDefaultsFromEnv: storage.collection reaches the node
// through cmd/shoal: a collection created without shard_number,
// replication_factor and write_consistency_factor takes
// QDRANT__STORAGE__COLLECTION__*, and opens that many shards.
func TestCollectionDefaultsFromEnv(t *testing.T) {
	s := newServer(t)
	s.env["QDRANT__STORAGE__COLLECTION__SHARD_NUMBER"] = "3"
	s.env["QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR"] = "2"
	s.env["QDRANT__STORAGE__COLLECTION__WRITE_CONSISTENCY_FACTOR"] = "2"
	s.start()
	s.must("PUT", "/collections/d", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Cosine"}}, nil)
	var info struct {
		Config struct {
			Params struct {
				ShardNumber            int `json:"shard_number"`
				ReplicationFactor      int `json:"replication_factor"`
				WriteConsistencyFactor int `json:"write_consistency_factor"`
			} `json:"params"`
		} `json:"config"`
	}
	s.must("GET", "/collections/d", nil, &info)
	if p := info.Config.Params; p.ShardNumber != 3 || p.ReplicationFactor != 2 || p.WriteConsistencyFactor != 2 {
		t.Errorf("params %+v, want shard_number 3, replication_factor 2, write_consistency_factor 2", p)
	}
	var cl struct {
		ShardCount int `json:"shard_count"`
	}
	s.must("GET", "/collections/d/cluster", nil, &cl)
	if cl.ShardCount != 3 {
		t.Errorf("shard_count %d, want 3", cl.ShardCount)
	}
}
