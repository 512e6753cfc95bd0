//go:build linux

// Package e2e runs the real shoal binary as an operator would (environment
// variables, a working directory without config files, signals) and talks to
// it over HTTP only. The binary is built once per test process.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/testkit"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testkit.Cleanup()
	os.Exit(code)
}

// repoRoot is the module root, where go.mod is.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := testkit.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// shoalBinary is ./cmd/shoal built once per test process, with -race when
// the tests run with it.
func shoalBinary(t testing.TB) string { return testkit.Binary(t, raceEnabled) }

// freePort is a free loopback port never handed out before in this
// process (clustertest.FreePort).
func freePort(t testing.TB) int { return clustertest.FreePort(t) }

// server is one shoal process (and its restarts) on one storage directory.
type server struct {
	t        testing.TB
	bin      string
	workdir  string // the process's working directory; empty of config files
	storage  string
	snaps    string
	httpPort int
	grpcPort int
	logPath  string
	args     []string
	env      map[string]string // overrides and additions; "" deletes a variable
	client   *http.Client

	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	state  *os.ProcessState
	starts int
}

// newServer prepares a server on fresh temp directories; start runs it.
func newServer(t testing.TB) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{
		t:        t,
		bin:      shoalBinary(t),
		workdir:  filepath.Join(dir, "work"),
		storage:  filepath.Join(dir, "storage"),
		snaps:    filepath.Join(dir, "snapshots"),
		httpPort: freePort(t),
		grpcPort: freePort(t),
		logPath:  filepath.Join(dir, "shoal.log"),
		env:      map[string]string{},
		client:   &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
	}
	if err := os.MkdirAll(s.workdir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.running() {
			s.kill()
		}
		// The race detector prints a report when it sees the race, so a
		// server killed with SIGKILL reports it too.
		if strings.Contains(s.logText(), "WARNING: DATA RACE") {
			t.Errorf("the server reported a data race")
		}
		if t.Failed() {
			t.Logf("shoal output (%s):\n%s", s.logPath, s.logText())
		}
	})
	return s
}

func (s *server) baseURL() string { return "http://127.0.0.1:" + strconv.Itoa(s.httpPort) }

func (s *server) environ() []string {
	vars := map[string]string{
		"QDRANT__SERVICE__HTTP_PORT":      strconv.Itoa(s.httpPort),
		"QDRANT__SERVICE__GRPC_PORT":      strconv.Itoa(s.grpcPort),
		"QDRANT__STORAGE__STORAGE_PATH":   s.storage,
		"QDRANT__STORAGE__SNAPSHOTS_PATH": s.snaps,
		"QDRANT__SERVICE__HOST":           "127.0.0.1",
	}
	for k, v := range s.env {
		vars[k] = v
	}
	env := baseEnv()
	for k, v := range vars {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// baseEnv is the test's environment without the caller's own Qdrant
// settings, which must not leak into a test.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "QDRANT_") || k == "RUN_MODE" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// start runs the binary and waits until /readyz answers 200.
func (s *server) start() {
	s.t.Helper()
	if err := s.tryStart(); err != nil {
		s.t.Fatal(err)
	}
}

// tryStart is start that returns an error when the server exits before it is
// ready, or is not ready in time (it is then killed).
func (s *server) tryStart() error {
	s.t.Helper()
	if s.running() {
		s.t.Fatal("start: shoal is already running")
	}
	s.starts++
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	fmt.Fprintf(logf, "===== start #%d: shoal %s =====\n", s.starts, strings.Join(s.args, " "))
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.workdir
	cmd.Env = s.environ()
	cmd.Stdout = logf
	cmd.Stderr = logf
	// If the test process dies, the server must not outlive it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		s.t.Fatalf("start shoal: %v", err)
	}
	s.cmd = cmd
	s.state = nil
	exited := make(chan struct{})
	s.exited = exited
	go func() {
		_ = cmd.Wait()
		logf.Close()
		s.state = cmd.ProcessState
		close(exited)
	}()
	err = s.waitReady(30 * time.Second)
	if err != nil && s.running() {
		s.kill()
	}
	return err
}

func (s *server) running() bool {
	if s.exited == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// waitReady polls /readyz until it answers 200, the process exits, or the
// deadline passes.
func (s *server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := s.client.Get(s.baseURL() + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("shoal not ready after %v: %v", timeout, err)
		}
		select {
		case <-s.exited:
			return fmt.Errorf("shoal exited before it was ready: %v", s.state)
		case <-tick.C:
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.t.Fatalf("kill shoal: %v", err)
	}
	s.waitExit(10 * time.Second)
}

// stop sends SIGTERM and returns the exit code of the graceful shutdown.
func (s *server) stop() int {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatalf("SIGTERM shoal: %v", err)
	}
	s.waitExit(60 * time.Second)
	return s.state.ExitCode()
}

func (s *server) waitExit(timeout time.Duration) {
	s.t.Helper()
	select {
	case <-s.exited:
	case <-time.After(timeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.t.Fatalf("shoal did not exit within %v", timeout)
	}
}

func (s *server) logText() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(b)
}

// lastStartLog is the output of the most recent start.
func (s *server) lastStartLog() string {
	text := s.logText()
	marker := fmt.Sprintf("===== start #%d:", s.starts)
	if i := strings.LastIndex(text, marker); i >= 0 {
		return text[i:]
	}
	return text
}

// logLines returns the lines of the most recent start that contain every
// one of the given substrings.
func (s *server) logLines(subs ...string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s.lastStartLog()))
	sc.Buffer(nil, 1<<20)
lines:
	for sc.Scan() {
		for _, sub := range subs {
			if !strings.Contains(sc.Text(), sub) {
				continue lines
			}
		}
		out = append(out, sc.Text())
	}
	return out
}

// apiError is a non-2xx answer of the REST API.
type apiError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// call sends body as JSON and decodes the "result" field of Qdrant's
// envelope into result (if not nil). Transport errors are returned as they
// are: a killed server shows up there.
func (s *server) call(ctx context.Context, method, path string, body, result any) error {
	var rd io.Reader
	if body != nil {
		body = withShards(method, path, body)
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.baseURL()+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &apiError{Method: method, Path: path, Status: resp.StatusCode, Body: string(data)}
	}
	var env struct {
		Result json.RawMessage `json:"result"`
		Status any             `json:"status"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("%s %s: decode answer %q: %w", method, path, data, err)
	}
	if env.Status != "ok" {
		return fmt.Errorf("%s %s: status %v in %s", method, path, env.Status, data)
	}
	if result != nil {
		d := json.NewDecoder(bytes.NewReader(env.Result))
		d.UseNumber()
		if err := d.Decode(result); err != nil {
			return fmt.Errorf("%s %s: decode result %s: %w", method, path, env.Result, err)
		}
	}
	return nil
}

// must is call that fails the test on any error.
func (s *server) must(method, path string, body, result any) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.call(ctx, method, path, body, result); err != nil {
		s.t.Fatal(err)
	}
}

// answers reports whether anything accepts HTTP requests on the server's
// port.
func (s *server) answers() bool {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(s.baseURL() + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}
