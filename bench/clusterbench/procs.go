package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// This file starts shoal processes the way internal/clustertest does (the
// same QDRANT__ variables, ports below the ephemeral range, a directory
// per peer), without a testing.TB.

// buildBinary builds ./cmd/shoal of the module that holds the working
// directory into dir.
func buildBinary(dir string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "shoal")
	cmd := exec.Command("go", "build", "-o", path, "./cmd/shoal")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/shoal: %w\n%s", err, out)
	}
	return path, nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory: run from the repository or pass -bin")
		}
		dir = parent
	}
}

// server is one shoal process.
type server struct {
	index    int
	dir, log string
	httpPort int
	p2pPort  int
	cmd      *exec.Cmd
	exited   chan struct{}
}

func (s *server) baseURL() string { return "http://127.0.0.1:" + strconv.Itoa(s.httpPort) }
func (s *server) uri() string     { return "http://127.0.0.1:" + strconv.Itoa(s.p2pPort) }

// start runs the binary; cluster enables cluster mode, bootstrap names the
// peer to join ("" for the first).
func (s *server) start(bin string, cluster bool, bootstrap string, ports *portPicker) error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	grpcPort, err := ports.pick()
	if err != nil {
		return err
	}
	vars := map[string]string{
		"QDRANT__SERVICE__HTTP_PORT":      strconv.Itoa(s.httpPort),
		"QDRANT__SERVICE__GRPC_PORT":      strconv.Itoa(grpcPort),
		"QDRANT__SERVICE__HOST":           "127.0.0.1",
		"QDRANT__STORAGE__STORAGE_PATH":   filepath.Join(s.dir, "storage"),
		"QDRANT__STORAGE__SNAPSHOTS_PATH": filepath.Join(s.dir, "snapshots"),
	}
	var args []string
	if cluster {
		vars["QDRANT__CLUSTER__ENABLED"] = "true"
		vars["QDRANT__CLUSTER__P2P__PORT"] = strconv.Itoa(s.p2pPort)
		args = []string{"--uri", s.uri()}
		if bootstrap != "" {
			args = append(args, "--bootstrap", bootstrap)
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "QDRANT_") && k != "RUN_MODE" {
			env = append(env, kv)
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = s.dir, env, logf, logf
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start server %d: %w", s.index, err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	return nil
}

func (s *server) running() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM, and SIGKILL after 30 s.
func (s *server) stop() {
	if !s.running() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// logTail is the end of the server's log, for error messages.
func (s *server) logTail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// waitReady polls /readyz until it answers 200.
func (s *server) waitReady(hc *http.Client, timeout time.Duration) error {
	return poll(timeout, func() error {
		if !s.running() {
			return errStop{fmt.Errorf("server %d exited:\n%s", s.index, s.logTail())}
		}
		resp, err := hc.Get(s.baseURL() + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz: %d", resp.StatusCode)
		}
		return nil
	})
}

// waitCluster polls GET /cluster on every server until all agree on one
// leader and know n peers.
func waitCluster(hc *http.Client, servers []*server, timeout time.Duration) error {
	return poll(timeout, func() error {
		var leader uint64
		for _, s := range servers {
			var st struct {
				Peers    map[string]json.RawMessage `json:"peers"`
				RaftInfo struct {
					Leader *uint64 `json:"leader"`
				} `json:"raft_info"`
			}
			if err := getJSON(hc, s.baseURL()+"/cluster", &st); err != nil {
				return fmt.Errorf("server %d: %w", s.index, err)
			}
			if st.RaftInfo.Leader == nil || len(st.Peers) < len(servers) {
				return fmt.Errorf("server %d: leader %v, %d peers", s.index, st.RaftInfo.Leader, len(st.Peers))
			}
			if leader != 0 && leader != *st.RaftInfo.Leader {
				return fmt.Errorf("leaders differ: %d, %d", leader, *st.RaftInfo.Leader)
			}
			leader = *st.RaftInfo.Leader
		}
		return nil
	})
}

// errStop ends a poll at once.
type errStop struct{ error }

// poll calls cond until it returns nil, an errStop, or timeout passes.
func poll(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		err := cond()
		if err == nil {
			return nil
		}
		var stop errStop
		if errors.As(err, &stop) {
			return stop.error
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not after %v: %w", timeout, err)
		}
		time.Sleep(wait)
	}
}

// portPicker hands out loopback TCP ports below the kernel's ephemeral
// range, never twice (see clustertest.FreePort for why not port 0).
type portPicker struct{ given map[int]bool }

func (p *portPicker) pick() (int, error) {
	if p.given == nil {
		p.given = map[int]bool{}
	}
	lo, hi := 20000, ephemeralLow()
	for range 1000 {
		port := lo + rand.IntN(hi-lo)
		if p.given[port] {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		ln.Close()
		p.given[port] = true
		return port, nil
	}
	return 0, fmt.Errorf("no free port in %d..%d after 1000 tries", lo, hi)
}

func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 21000 {
		return 32768
	}
	return n
}
