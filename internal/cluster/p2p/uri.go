package p2p

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
)

// errBadURI marks a P2P URI that cannot be dialed.
var errBadURI = errors.New("invalid peer URI")

// parseURI checks a peer's P2P URI ("http://10.0.0.2:6335", as Qdrant
// writes them) and returns the address to dial. A URI without a port gets
// its scheme's default, as a gRPC client of Qdrant would use. URIs come
// from the network (AddPeerToKnown, WhoIs, the raft log), so garbage gives
// errBadURI, never a panic.
func parseURI(uri string) (addr string, err error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("%w %q: %v", errBadURI, uri, err)
	}
	port := "80"
	switch u.Scheme {
	case "http":
	case "https":
		port = "443"
	default:
		return "", fmt.Errorf("%w %q: the scheme must be http or https", errBadURI, uri)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w %q: only scheme, host and port are allowed", errBadURI, uri)
	}
	host := u.Hostname()
	if !validHost(host) {
		return "", fmt.Errorf("%w %q: bad host", errBadURI, uri)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return "", fmt.Errorf("%w %q: bad port", errBadURI, uri)
		}
		port = p
	}
	return net.JoinHostPort(host, port), nil
}

// uriFromAddr builds the URI of a peer that told only its port, from the
// address its request came from (Qdrant's AddPeerToKnown without a URI).
func uriFromAddr(remote net.Addr, port uint32, tls bool) (string, error) {
	if remote == nil {
		return "", errors.New("the caller's address is unknown")
	}
	if port == 0 || port > 65535 {
		return "", fmt.Errorf("port %d is out of range", port)
	}
	ap, err := netip.ParseAddrPort(remote.String())
	if err != nil {
		return "", fmt.Errorf("the caller's address %q: %w", remote, err)
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	ip := ap.Addr().Unmap().WithZone("")
	return scheme + "://" + net.JoinHostPort(ip.String(), strconv.FormatUint(uint64(port), 10)), nil
}

// localDialAddr is the address to dial from: the host of this peer's own
// URI when it is a loopback IP other than the unspecified address, so that
// a proxy keyed by the connection's source (internal/clustertest) can tell
// peers on one machine apart. Otherwise nil: the system chooses.
func localDialAddr(ownURI string) *net.TCPAddr {
	u, err := url.Parse(ownURI)
	if err != nil {
		return nil
	}
	ip, err := netip.ParseAddr(u.Hostname())
	if err != nil || !ip.IsLoopback() || ip.IsUnspecified() {
		return nil
	}
	return &net.TCPAddr{IP: ip.AsSlice()}
}

// validHost accepts an IP address or a DNS name.
func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}
