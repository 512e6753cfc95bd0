//go:build linux

package e2e

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSlowRequestBodyIsCut runs the binary with a one-second read timeout
// (QDRANT__SERVICE__HTTP_READ_TIMEOUT_SEC) and a client that sends its
// headers, then its body one byte at a time, more slowly than that: the
// server answers and closes the connection instead of holding it, and
// serves other clients meanwhile.
func TestSlowRequestBodyIsCut(t *testing.T) {
	s := newServer(t)
	s.env["QDRANT__SERVICE__HTTP_READ_TIMEOUT_SEC"] = "1"
	s.start()

	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s.httpPort))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"vectors":{"size":2,"distance":"Dot"}}`
	head := "PUT /collections/slow HTTP/1.1\r\nHost: shoal\r\nContent-Type: application/json\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		// One byte every 300 ms: the body would take 12 s.
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for i := range len(body) {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return // closed by the server
			}
		}
	}()

	// Meanwhile the server serves others.
	s.must("GET", "/collections", nil, nil)

	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(10 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to the slow request: %v", err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 == 2 || !strings.Contains(string(text), "http_read_timeout_sec") {
		t.Errorf("answer %d %s, want an error naming the read timeout", resp.StatusCode, text)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("connection after the answer: %v, want it closed", err)
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("the slow connection was held %v with a 1 s read timeout", took)
	}
	// Nothing of the cut request was applied.
	var exists struct{ Exists bool }
	s.must("GET", "/collections/slow/exists", nil, &exists)
	if exists.Exists {
		t.Error("the cut request created its collection")
	}
}
