package history

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	env := func(msg string) []byte { return fmt.Appendf(nil, `{"status":{"error":%q},"time":0.001}`, msg) }
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		name   string
		status int
		body   []byte
		err    error
		want   Outcome
	}{
		{"200", 200, []byte(`{"result":{"operation_id":1,"status":"completed"},"status":"ok"}`), nil, OK},
		{"202 acknowledged", 202, nil, nil, OK},
		{"400 bad input", 400, env("Wrong input: Vector dimension error"), nil, Fail},
		{"404 no collection", 404, env("Not found: Collection `c` doesn't exist!"), nil, Fail},
		{"403 strict mode", 403, env("Forbidden: ..."), nil, Fail},
		{"429 rate limit", 429, env("Rate limiting exceeded"), nil, Fail},
		{"408 timeout", 408, env("Timeout: deadline exceeded"), nil, Unknown},
		{"500 internal", 500, env("Service internal error: boom"), nil, Unknown},
		{"503 unavailable", 503, env("Service unavailable: no replica"), nil, Unknown},
		{"500 not applied", 500, env("Service internal error: the update was not applied: no active replica"), nil, Fail},
		{"503 not applied, mixed case", 503, env("Service unavailable: Not Applied (ordering leader down)"), nil, Fail},
		{"500 outcome unknown", 500, env("Service internal error: 1 of 2 replicas applied the update: its outcome is unknown"), nil, Unknown},
		{"unknown wins over not applied", 500, env("the outcome is unknown: applied on peer 1, not applied on peer 2"), nil, Unknown},
		{"4xx that says unknown", 400, env("Outcome is Unknown"), nil, Unknown},
		{"500 garbage body", 500, []byte("<html>oops"), nil, Unknown},
		{"302", 302, nil, nil, Unknown},
		{"timeout", 0, nil, context.DeadlineExceeded, Unknown},
		{"reset", 0, nil, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, Unknown},
		{"EOF", 0, nil, errors.New("Post \"http://x\": EOF"), Unknown},
		{"refused", 0, nil, refused, Fail},
		{"refused, wrapped", 0, nil, fmt.Errorf("Put \"http://x\": %w", refused), Fail},
		{"error wins over status", 200, nil, context.DeadlineExceeded, Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, detail := Classify(tc.status, tc.body, tc.err)
			if got != tc.want {
				t.Fatalf("Classify = %v (%s), want %v", got, detail, tc.want)
			}
			if detail == "" {
				t.Fatal("no detail")
			}
		})
	}
}

// TestClassifyRealErrors: the transport errors net/http really returns
// for a closed port and for a request that times out.
func TestClassifyRealErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = http.Post("http://"+addr+"/", "application/json", nil)
	if got, detail := Classify(0, nil, err); got != Fail {
		t.Fatalf("closed port: %v (%s)", got, detail)
	}

	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept and never answer
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	hc := &http.Client{Timeout: 50 * time.Millisecond}
	_, err = hc.Post("http://"+ln.Addr().String()+"/", "application/json", nil)
	if got, detail := Classify(0, nil, err); got != Unknown {
		t.Fatalf("silent server: %v (%s)", got, detail)
	}
}

func TestErrorText(t *testing.T) {
	for body, want := range map[string]string{
		`{"status":{"error":"Not found: x"},"time":0}`: "Not found: x",
		`{"status":"ok"}`: `{"status":"ok"}`,
		"  plain  ":       "plain",
		"":                "",
	} {
		if got := ErrorText([]byte(body)); got != want {
			t.Errorf("ErrorText(%q) = %q, want %q", body, got, want)
		}
	}
}
