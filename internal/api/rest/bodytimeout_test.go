package rest

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/node"
)

// timeoutServer serves s on a loopback port with the timeouts main sets, the
// read timeout being read.
func timeoutServer(t *testing.T, read time.Duration) (*Server, *httptest.Server) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := node.Open(node.Options{StoragePath: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s := New(n, Options{Logger: quiet})
	hs := httptest.NewUnstartedServer(s)
	hs.Config.ReadHeaderTimeout = read
	hs.Config.ReadTimeout = read
	hs.Config.WriteTimeout = time.Minute
	hs.Config.IdleTimeout = time.Minute
	hs.Start()
	t.Cleanup(func() {
		hs.Close()
		if err := n.Close(); err != nil {
			t.Errorf("close node: %v", err)
		}
	})
	return s, hs
}

// TestSlowBodyIsCut sends the headers of a request, then its body one byte
// at a time, more slowly than the read timeout allows: the server answers
// and closes the connection instead of holding it.
func TestSlowBodyIsCut(t *testing.T) {
	const limit = 300 * time.Millisecond
	_, hs := timeoutServer(t, limit)
	conn, err := net.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"vectors":{"size":2,"distance":"Dot"}}`
	head := "PUT /collections/slow HTTP/1.1\r\nHost: shoal\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(limit / 4)
		defer tick.Stop()
		for i := range len(body) {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return // the server closed the connection
			}
		}
	}()
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(10 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer before the connection ended: %v", err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 == 2 || !strings.Contains(string(text), "http_read_timeout_sec") {
		t.Errorf("answer %d %s, want an error naming the read timeout", resp.StatusCode, text)
	}
	if !resp.Close {
		t.Errorf("answer keeps the connection open: %v", resp.Header)
	}
	// Closed: EOF, or a reset when the close found unread bytes.
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("connection after the answer: %v, want it closed", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("connection held %v for a %v read timeout", took, limit)
	}
}

// TestBodyTimeoutSparesSlowHandlers checks that the read timeout ends with
// the body: a handler that runs longer than it, after reading its body in
// time, keeps its context and answers (a search may run longer than the
// read timeout; only the write timeout bounds it).
func TestBodyTimeoutSparesSlowHandlers(t *testing.T) {
	const limit = 100 * time.Millisecond
	s, hs := timeoutServer(t, limit)
	s.mux.HandleFunc("POST /test/slow", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case <-r.Context().Done():
			http.Error(w, "cancelled: "+r.Context().Err().Error(), http.StatusServiceUnavailable)
		case <-time.After(4 * limit):
			io.WriteString(w, "done")
		}
	})
	for range 2 { // twice on one connection: the deadline is per request
		resp, err := hs.Client().Post(hs.URL+"/test/slow", "application/json", strings.NewReader(`{"x":1}`))
		if err != nil {
			t.Fatal(err)
		}
		text, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(text) != "done" {
			t.Fatalf("slow handler: %d %s", resp.StatusCode, text)
		}
	}
}
