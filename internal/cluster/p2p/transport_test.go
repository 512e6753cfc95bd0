package p2p

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"

	"github.com/shoaldb/shoal/internal/cluster/consensus"
)

func newTestTransport(t *testing.T, ownURI string, resolve func(uint64) (string, bool), queue int) (*Transport, *countingReporter) {
	t.Helper()
	tr := NewTransport(TransportConfig{ID: 1, URI: ownURI, Resolver: resolve, Timeout: 2 * time.Second,
		ConnectTimeout: 500 * time.Millisecond, QueueSize: queue, Logger: quiet})
	r := &countingReporter{}
	tr.SetReporter(r)
	t.Cleanup(func() {
		if err := tr.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return tr, r
}

// Messages to one peer arrive in order, from the host of our own URI.
func TestTransportOrderAndSource(t *testing.T) {
	fc := &fakeConsensus{}
	addr := serveFake(t, "127.0.0.31", ServerConfig{Consensus: fc, Membership: &fakeMembership{}})
	tr, rep := newTestTransport(t, "http://127.0.0.32:6335", func(uint64) (string, bool) { return "http://" + addr, true }, 0)
	const n = 300
	for i := range n {
		tr.Send([]consensus.Message{{To: 7, Data: fmt.Appendf(nil, "msg:%d", i)}, {To: 1, Data: []byte("to myself")}})
	}
	testkit.WaitFor(t, "every message", waitLong, func() bool { s, _ := fc.stepped(); return len(s) == n })
	steps, sources := fc.stepped()
	for i, s := range steps {
		if want := fmt.Sprintf("msg:%d", i); s != want {
			t.Fatalf("message %d is %q, want %q", i, s, want)
		}
		if sources[i] != "127.0.0.32" {
			t.Fatalf("message %d came from %s, want 127.0.0.32", i, sources[i])
		}
	}
	if len(tr.SendFailures()) != 0 || rep.count(7) != 0 {
		t.Fatalf("failures %v, unreachable %d", tr.SendFailures(), rep.count(7))
	}
}

// A changed URI is picked up at the next message.
func TestTransportURIChange(t *testing.T) {
	a, b := &fakeConsensus{}, &fakeConsensus{}
	addrA := serveFake(t, "127.0.0.33", ServerConfig{Consensus: a, Membership: &fakeMembership{}})
	addrB := serveFake(t, "127.0.0.34", ServerConfig{Consensus: b, Membership: &fakeMembership{}})
	var cur atomic.Value
	cur.Store("http://" + addrA)
	tr, _ := newTestTransport(t, "", func(uint64) (string, bool) { return cur.Load().(string), true }, 0)
	tr.Send([]consensus.Message{{To: 2, Data: []byte("first")}})
	testkit.WaitFor(t, "first message at A", waitLong, func() bool { s, _ := a.stepped(); return len(s) == 1 })
	cur.Store("http://" + addrB)
	tr.Send([]consensus.Message{{To: 2, Data: []byte("second")}})
	testkit.WaitFor(t, "second message at B", waitLong, func() bool { s, _ := b.stepped(); return len(s) == 1 })
	if s, _ := a.stepped(); len(s) != 1 {
		t.Fatalf("A got %v", s)
	}
}

// Failures are counted per URI with the latest error and reported to
// consensus; a refused message (bad) counts too; success clears the entry.
func TestTransportFailures(t *testing.T) {
	fc := &fakeConsensus{}
	addr := serveFake(t, "127.0.0.35", ServerConfig{Consensus: fc, Membership: &fakeMembership{}})
	uris := map[uint64]string{2: "http://" + addr, 3: "http://127.0.0.36:1", 4: "ftp://nowhere"}
	tr, rep := newTestTransport(t, "", func(id uint64) (string, bool) { u, ok := uris[id]; return u, ok }, 0)

	tr.Send([]consensus.Message{{To: 3, Data: []byte("x")}, {To: 3, Data: []byte("y")}, {To: 4, Data: []byte("z")}, {To: 9, Data: []byte("w")}})
	testkit.WaitFor(t, "failures to 3 and 4", waitLong, func() bool {
		f := tr.SendFailures()
		return f[uris[3]].Count == 2 && f[uris[4]].Count == 1 && rep.count(9) == 1
	})
	f := tr.SendFailures()[uris[3]]
	if f.LatestError == "" || f.LatestAt.IsZero() {
		t.Fatalf("failure without error or time: %+v", f)
	}
	if rep.count(3) != 2 || rep.count(4) != 1 {
		t.Fatalf("unreachable reports: %v", rep.n)
	}
	if len(tr.SendFailures()) != 2 {
		t.Fatalf("an unknown peer has no URI to count under: %v", tr.SendFailures())
	}

	tr.Send([]consensus.Message{{To: 2, Data: []byte("bad")}})
	testkit.WaitFor(t, "refused message counted", waitLong, func() bool { return tr.SendFailures()[uris[2]].Count == 1 })
	tr.Send([]consensus.Message{{To: 2, Data: []byte("good")}})
	testkit.WaitFor(t, "success to clear the entry", waitLong, func() bool { _, ok := tr.SendFailures()[uris[2]]; return !ok })
}

// A full queue drops and reports; Close interrupts a call in flight and
// waits for the senders; Send after Close is a no-op.
func TestTransportQueueFullAndClose(t *testing.T) {
	fc := &fakeConsensus{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	addr := serveFake(t, "127.0.0.37", ServerConfig{Consensus: fc, Membership: &fakeMembership{}})
	uri := "http://" + addr
	tr := NewTransport(TransportConfig{ID: 1, Resolver: func(uint64) (string, bool) { return uri, true }, QueueSize: 1, Logger: quiet})
	rep := &countingReporter{}
	tr.SetReporter(rep)
	tr.Send([]consensus.Message{{To: 2, Data: []byte("in flight")}})
	select {
	case <-fc.entered:
	case <-time.After(waitLong):
		t.Fatal("first message never arrived")
	}
	tr.Send([]consensus.Message{{To: 2, Data: []byte("queued")}, {To: 2, Data: []byte("dropped")}})
	if f := tr.SendFailures()[uri]; f.Count != 1 || f.LatestError != errQueueFull.Error() || rep.count(2) != 1 {
		t.Fatalf("queue full: failures %+v, reports %d", f, rep.count(2))
	}
	closed := make(chan error, 1)
	go func() { closed <- tr.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("close: %v", err)
		}
	case <-time.After(waitLong):
		t.Fatal("Close did not interrupt the call in flight")
	}
	tr.Send([]consensus.Message{{To: 2, Data: []byte("after close")}})
	if rep.count(2) != 1 {
		t.Fatal("a send after close was reported")
	}
	close(fc.gate)
}

// Forget stops a peer's sender and clears its failures.
func TestTransportForget(t *testing.T) {
	uri := "http://127.0.0.38:1"
	tr, _ := newTestTransport(t, "", func(uint64) (string, bool) { return uri, true }, 0)
	tr.Send([]consensus.Message{{To: 5, Data: []byte("x")}})
	testkit.WaitFor(t, "a failure", waitLong, func() bool { return tr.SendFailures()[uri].Count == 1 })
	tr.Forget(5)
	if len(tr.SendFailures()) != 0 {
		t.Fatalf("failures after Forget: %v", tr.SendFailures())
	}
}
