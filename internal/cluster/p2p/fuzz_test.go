package p2p

import (
	"net"
	"strconv"
	"testing"
)

// FuzzParseURI: peer URIs come from the network; parseURI never panics and
// what it accepts is a dialable host:port.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:6335", "https://node-1:6335", "http://[::1]:6335", "http://h",
		"ftp://x:1", "http://:1", "http://h:0", "http://h:99999", "http://u@h:1", "http://h:1/p", "", "%", "http://[::1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		addr, err := parseURI(uri)
		if err != nil {
			return
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host == "" {
			t.Fatalf("parseURI(%q) = %q: %v", uri, addr, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			t.Fatalf("parseURI(%q) = %q: bad port", uri, addr)
		}
	})
}

func TestLocalDialAddr(t *testing.T) {
	for uri, want := range map[string]string{
		"http://127.0.0.5:6335": "127.0.0.5",
		"http://[::1]:6335":     "::1",
		"http://0.0.0.0:6335":   "",
		"http://10.0.0.2:6335":  "",
		"http://node-1:6335":    "",
		"":                      "",
	} {
		got := ""
		if a := localDialAddr(uri); a != nil {
			got = a.IP.String()
		}
		if got != want {
			t.Errorf("localDialAddr(%q) = %q, want %q", uri, got, want)
		}
	}
}
