package clustertest

import (
	"fmt"
	"net"
	"sync"
	"time"
)

// Mode is what a Proxy does with the traffic of one source.
type Mode int

// Modes: Pass forwards (after Delay, if set); Cut closes the source's
// connections and refuses new ones (the peer sees errors at once);
// Blackhole accepts and swallows everything in both directions (the peer
// sees timeouts, as behind a dead switch).
const (
	Pass Mode = iota
	Cut
	Blackhole
)

// Rule is the treatment of one source.
type Rule struct {
	Mode  Mode
	Delay time.Duration // added before forwarding each chunk, in Pass mode
}

// Proxy forwards TCP connections accepted on a loopback port to a target,
// applying a Rule chosen by the connection's source host, so that one
// proxy in front of a peer can cut, delay or blackhole each other peer
// separately when peers dial from distinct loopback addresses. The zero
// Rule (Pass, no delay) applies to sources without one.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	rules  map[string]Rule     // by source host; "" is the default
	conns  map[net.Conn]string // accepted connections -> source host
	closed bool
	wg     sync.WaitGroup // the accept loop and every copy goroutine
}

// NewProxy listens on host:0 (a loopback address) and forwards to target.
func NewProxy(host, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("proxy listen: %w", err)
	}
	p := &Proxy{ln: ln, target: target, rules: map[string]Rule{}, conns: map[net.Conn]string{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the address to dial instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Set changes the rule of a source host ("" for every source without its
// own rule). Cutting closes the source's open connections.
func (p *Proxy) Set(source string, r Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules[source] = r
	if r.Mode != Cut {
		return
	}
	for c, src := range p.conns {
		_, own := p.rules[src]
		if src == source || source == "" && !own {
			c.Close()
		}
	}
}

// Heal sets every rule back to Pass.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.rules)
}

func (p *Proxy) rule(source string) Rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.rules[source]; ok {
		return r
	}
	return p.rules[""]
}

// Close stops accepting, closes every connection and waits for the
// proxy's goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		src, _, _ := net.SplitHostPort(in.RemoteAddr().String())
		if p.rule(src).Mode == Cut {
			in.Close()
			continue
		}
		out, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			in.Close()
			out.Close()
			return
		}
		p.conns[in] = src
		p.conns[out] = src
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(in, out, src)
		go p.pipe(out, in, src)
	}
}

// pipe copies from one side to the other under the source's rule; when
// either side ends, both are closed.
func (p *Proxy) pipe(from, to net.Conn, src string) {
	defer p.wg.Done()
	defer func() {
		from.Close()
		to.Close()
		p.mu.Lock()
		delete(p.conns, from)
		delete(p.conns, to)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			r := p.rule(src)
			switch r.Mode {
			case Cut:
				return
			case Blackhole:
				// Swallowed.
			default:
				if r.Delay > 0 {
					time.Sleep(r.Delay)
				}
				if _, werr := to.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return // EOF or closed: both sides go
		}
	}
}
