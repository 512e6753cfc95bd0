package clustertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Peer is one shoal process of a Cluster, with its ports, storage and
// log, across restarts. Other peers reach its P2P port through its proxy.
type Peer struct {
	c        *Cluster
	Index    int
	Host     string // its own loopback address; it dials other peers from it
	HTTPPort int
	P2PPort  int // where the process listens
	Dir      string
	LogPath  string
	Proxy    *Proxy    // in front of P2PPort, on Host: cuts links by source
	Msgs     *MsgProxy // between Proxy and P2PPort: drops or delays messages
	// Env adds or overrides environment variables of the next start.
	Env map[string]string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	starts int
	clock  time.Duration // offset of the monotonic and boot clocks of the next start
}

// SetClockOffset moves the monotonic and boot clocks of the peer's next
// starts by d (whole seconds, d >= 0) in a time namespace of their own
// (`unshare --time`); 0 starts it in the host's. Only where
// TimeNamespaces reports true.
func (p *Peer) SetClockOffset(d time.Duration) {
	p.mu.Lock()
	p.clock = d
	p.mu.Unlock()
}

// TimeNamespaces reports whether processes can start in a time namespace
// of their own with moved clocks: Linux 5.6 or later, the unshare tool
// of util-linux, and the right to create namespaces (root).
var TimeNamespaces = sync.OnceValue(func() bool {
	return exec.Command("unshare", "--time", "--monotonic", "1", "--boottime", "1", "true").Run() == nil
})

// URI is the P2P address other peers use: the proxy's.
func (p *Peer) URI() string { return "http://" + p.Proxy.Addr() }

// BaseURL is the REST address.
func (p *Peer) BaseURL() string { return "http://127.0.0.1:" + strconv.Itoa(p.HTTPPort) }

func (p *Peer) environ(bootstrap string) []string {
	vars := map[string]string{
		"QDRANT__CLUSTER__ENABLED":                   "true",
		"QDRANT__CLUSTER__P2P__PORT":                 strconv.Itoa(p.P2PPort),
		"QDRANT__SERVICE__HTTP_PORT":                 strconv.Itoa(p.HTTPPort),
		"QDRANT__SERVICE__GRPC_PORT":                 strconv.Itoa(FreePort(p.c.t)),
		"QDRANT__SERVICE__HOST":                      "127.0.0.1",
		"QDRANT__STORAGE__STORAGE_PATH":              filepath.Join(p.Dir, "storage"),
		"QDRANT__STORAGE__SNAPSHOTS_PATH":            filepath.Join(p.Dir, "snapshots"),
		"QDRANT__CLUSTER__CONSENSUS__TICK_PERIOD_MS": strconv.Itoa(p.c.opts.TickMS),
	}
	for k, v := range p.c.opts.Env {
		vars[k] = v
	}
	for k, v := range p.Env {
		vars[k] = v
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "QDRANT_") && k != "RUN_MODE" {
			env = append(env, kv)
		}
	}
	for k, v := range vars {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Start runs the process: the first peer of a cluster without bootstrap,
// the others with --bootstrap to bootstrap; a restart finds its state.
func (p *Peer) Start(bootstrap string) error { return p.StartWithURI(bootstrap, p.URI()) }

// StartWithURI is Start announcing another URI than the peer's own (to
// test clashes and URI changes).
func (p *Peer) StartWithURI(bootstrap, uri string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		select {
		case <-p.exited:
		default:
			return fmt.Errorf("peer %d is running", p.Index)
		}
	}
	p.starts++
	logf, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := []string{"--uri", uri}
	if bootstrap != "" {
		args = append(args, "--bootstrap", bootstrap)
	}
	fmt.Fprintf(logf, "===== start #%d: shoal %s =====\n", p.starts, strings.Join(args, " "))
	cmd := exec.Command(p.c.bin, args...)
	if p.clock > 0 {
		// unshare execs the binary in the new namespace: the pid is
		// shoal's, so signals reach it as without.
		secs := strconv.FormatInt(int64(p.clock/time.Second), 10)
		cmd = exec.Command("unshare", append([]string{"--time", "--monotonic", secs, "--boottime", secs, p.c.bin}, args...)...)
		fmt.Fprintf(logf, "(in a time namespace: monotonic and boot clocks +%ss)\n", secs)
	}
	cmd.Dir = p.Dir
	cmd.Env = p.environ(bootstrap)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start peer %d: %w", p.Index, err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited = cmd, exited
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	return nil
}

// Pid is the process id of the peer's latest start (0: never started).
func (p *Peer) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Running reports whether the process is alive.
func (p *Peer) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func (p *Peer) signal(sig syscall.Signal) error {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("peer %d never started", p.Index)
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal peer %d: %w", p.Index, err)
	}
	return nil
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Peer) Kill() error {
	if err := p.signal(syscall.SIGKILL); err != nil {
		return err
	}
	return p.waitExit(10 * time.Second)
}

// Stop sends SIGTERM and waits for a graceful exit.
func (p *Peer) Stop() error {
	if err := p.signal(syscall.SIGTERM); err != nil {
		return err
	}
	return p.waitExit(60 * time.Second)
}

// Pause and Resume freeze and thaw the process (SIGSTOP, SIGCONT).
func (p *Peer) Pause() error  { return p.signal(syscall.SIGSTOP) }
func (p *Peer) Resume() error { return p.signal(syscall.SIGCONT) }

// Wipe deletes the peer's storage (it must be stopped).
func (p *Peer) Wipe() error {
	if p.Running() {
		return fmt.Errorf("wipe peer %d: running", p.Index)
	}
	return os.RemoveAll(filepath.Join(p.Dir, "storage"))
}

func (p *Peer) waitExit(timeout time.Duration) error {
	p.mu.Lock()
	exited := p.exited
	p.mu.Unlock()
	select {
	case <-exited:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("peer %d did not exit within %v", p.Index, timeout)
	}
}

// APIError is a non-2xx REST answer.
type APIError struct {
	Status int
	Body   string
}

func (e *APIError) Error() string { return fmt.Sprintf("status %d: %s", e.Status, e.Body) }

// Do sends a REST request (body as JSON when not nil) and decodes the
// envelope's result into out (when not nil).
func (p *Peer) Do(method, path string, body, out any) error {
	return p.do(p.c.client, method, path, body, out)
}

func (p *Peer) do(client *http.Client, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.BaseURL()+path, rd)
	if err != nil {
		return err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &APIError{Status: resp.StatusCode, Body: string(data)}
	}
	if out == nil {
		return nil
	}
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("decode envelope: %w: %s", err, data)
	}
	return json.Unmarshal(env.Result, out)
}

// Status is the part of GET /cluster the harness reads.
type Status struct {
	Status   string                          `json:"status"`
	PeerID   uint64                          `json:"peer_id"`
	Peers    map[string]struct{ URI string } `json:"peers"`
	RaftInfo struct {
		Term    uint64  `json:"term"`
		Commit  uint64  `json:"commit"`
		Leader  *uint64 `json:"leader"`
		Role    *string `json:"role"`
		IsVoter bool    `json:"is_voter"`
		Pending int     `json:"pending_operations"`
	} `json:"raft_info"`
	MessageSendFailures map[string]struct {
		Count int `json:"count"`
	} `json:"message_send_failures"`
}

// Cluster reads GET /cluster, giving up after a few seconds (a paused
// peer does not answer).
func (p *Peer) Cluster() (Status, error) {
	var st Status
	err := p.do(p.c.probe, http.MethodGet, "/cluster", nil, &st)
	return st, err
}

// FreePort returns a TCP port that is free on the loopback interface and
// lies below the kernel's ephemeral range, never one it has handed out
// before in this process. A port from the ephemeral range (what the kernel
// offers for port 0) can be taken by any outgoing connection between the
// moment it is chosen and the moment a peer binds it: with proxies dialing
// all the time, a peer then failed to start with "address already in use".
func FreePort(t testing.TB) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	lo, hi := 20000, ephemeralLow()
	for range 1000 {
		port := lo + rand.IntN(hi-lo)
		if portsGiven[port] {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // taken
		}
		ln.Close()
		portsGiven[port] = true
		return port
	}
	t.Fatalf("no free port in %d..%d after 1000 tries", lo, hi)
	return 0
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux:
// /proc/sys/net/ipv4/ip_local_port_range), or 32768 where it cannot be
// read.
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
	if err != nil || n <= 20000+1000 {
		return 32768
	}
	return n
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)
