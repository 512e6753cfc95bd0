package clustertest

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// echoServer answers every line with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// dialFrom connects to addr from a given loopback source address.
func dialFrom(t *testing.T, source, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, source, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip sends a line and waits up to wait for it to come back.
func roundTrip(c net.Conn, line string, wait time.Duration) (string, error) {
	c.SetDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(got, "\n"), err
}

func TestProxyRules(t *testing.T) {
	p, err := NewProxy("127.0.0.1", echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const a, b = "127.0.0.2", "127.0.0.3"
	ca, cb := dialFrom(t, a, p.Addr()), dialFrom(t, b, p.Addr())
	for _, c := range []net.Conn{ca, cb} {
		if got, err := roundTrip(c, "hello", 2*time.Second); err != nil || got != "hello" {
			t.Fatalf("pass: %q %v", got, err)
		}
	}

	// Cutting a closes its connection and refuses new ones; b goes on.
	p.Set(a, Rule{Mode: Cut})
	if _, err := roundTrip(ca, "x", 2*time.Second); err == nil {
		t.Fatal("cut connection still answers")
	}
	if c := dialFrom(t, a, p.Addr()); true {
		if _, err := roundTrip(c, "x", 2*time.Second); err == nil {
			t.Fatal("new connection from a cut source answers")
		}
	}
	if got, err := roundTrip(cb, "still", 2*time.Second); err != nil || got != "still" {
		t.Fatalf("other source after a cut: %q %v", got, err)
	}

	// Blackholed traffic is swallowed: the connection stays open and
	// nothing comes back.
	p.Set(b, Rule{Mode: Blackhole})
	if _, err := roundTrip(cb, "lost", 200*time.Millisecond); err == nil {
		t.Fatal("blackholed connection answered")
	}

	// Delay holds each chunk back.
	p.Heal()
	cd := dialFrom(t, b, p.Addr())
	p.Set(b, Rule{Delay: 50 * time.Millisecond})
	start := time.Now()
	if got, err := roundTrip(cd, "slow", 2*time.Second); err != nil || got != "slow" {
		t.Fatalf("delayed: %q %v", got, err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("round trip took %v through a 50ms delay", d)
	}

	// After healing, a cut source connects again.
	p.Heal()
	if got, err := roundTrip(dialFrom(t, a, p.Addr()), "back", 2*time.Second); err != nil || got != "back" {
		t.Fatalf("after heal: %q %v", got, err)
	}
}
