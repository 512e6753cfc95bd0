package clustertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/shoaldb/shoal/internal/cluster/consensus"
	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// Call is one request message that goes through a MsgProxy.
type Call struct {
	// Method is the gRPC method, e.g. MethodAddPeerToKnown.
	Method string
	// RaftType is the raft message type ("MsgSnap", "MsgApp", ...) of a
	// message of the Raft service's Send and SendStream; empty otherwise.
	RaftType string
}

// Raft methods as they appear in Call.Method.
const (
	MethodRaftSend       = p2pv1.Raft_Send_FullMethodName
	MethodAddPeerToKnown = p2pv1.Raft_AddPeerToKnown_FullMethodName
)

// Verdict is what a MsgProxy does with a request message.
type Verdict struct {
	// Drop answers the call with Unavailable without forwarding it: the
	// sender learns at once that it did not arrive.
	Drop bool
	// Lose swallows the call: the sender hears nothing until its own
	// deadline, as with a message lost on the way.
	Lose bool
	// Delay holds the message this long before forwarding it.
	Delay time.Duration
}

// Filter decides the fate of each request message; nil forwards all.
type Filter func(Call) Verdict

// MsgProxy forwards gRPC calls to a peer's P2P port without decoding them,
// and lets a test drop, lose or delay single messages by method and, for
// raft messages, by raft message type: a snapshot, a join request. The TCP
// Proxy in front of it still cuts whole links by source.
type MsgProxy struct {
	ln  net.Listener
	srv *grpc.Server
	up  *grpc.ClientConn

	mu     sync.Mutex
	filter Filter
	seen   map[string]int // by Method or "Raft/<type>", forwarded or not
	wg     sync.WaitGroup
}

// NewMsgProxy listens on host:0 and forwards to target.
func NewMsgProxy(host, target string) (*MsgProxy, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("message proxy listen: %w", err)
	}
	up, err := grpc.NewClient("passthrough:///"+target, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{}), grpc.MaxCallRecvMsgSize(1<<30), grpc.MaxCallSendMsgSize(1<<30)))
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("message proxy upstream: %w", err)
	}
	p := &MsgProxy{ln: ln, up: up, seen: map[string]int{}}
	p.srv = grpc.NewServer(grpc.ForceServerCodecV2(rawCodec{}), grpc.UnknownServiceHandler(p.forward),
		grpc.MaxRecvMsgSize(1<<30), grpc.MaxSendMsgSize(1<<30))
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_ = p.srv.Serve(ln)
	}()
	return p, nil
}

// Addr is the address to dial instead of the target.
func (p *MsgProxy) Addr() string { return p.ln.Addr().String() }

// SetFilter installs the filter of every later message (nil: forward all).
func (p *MsgProxy) SetFilter(f Filter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.filter = f
}

// Seen counts the request messages that reached the proxy, by method or,
// for raft messages, by "Raft/<type>" (e.g. "Raft/MsgSnap").
func (p *MsgProxy) Seen(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[key]
}

// Close stops the proxy and its calls.
func (p *MsgProxy) Close() error {
	p.srv.Stop()
	p.wg.Wait()
	return p.up.Close()
}

func (p *MsgProxy) judge(c Call) Verdict {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := c.Method
	if c.RaftType != "" {
		key = "Raft/" + c.RaftType
	}
	p.seen[key]++
	if p.filter == nil {
		return Verdict{}
	}
	return p.filter(c)
}

// describe reads the call a request message is.
func describe(method string, msg []byte) Call {
	c := Call{Method: method}
	if method == MethodRaftSend || method == p2pv1.Raft_SendStream_FullMethodName {
		var rm p2pv1.RaftMessage
		if proto.Unmarshal(msg, &rm) == nil {
			if t, err := consensus.MessageType(rm.GetMessage()); err == nil {
				c.RaftType = t
			}
		}
	}
	return c
}

// apply carries out a verdict: an error means the message is not
// forwarded, and ends the call.
func apply(ctx context.Context, v Verdict) error {
	switch {
	case v.Drop:
		return status.Error(codes.Unavailable, "dropped by the test proxy")
	case v.Lose:
		<-ctx.Done()
		return status.FromContextError(ctx.Err()).Err()
	case v.Delay > 0:
		t := time.NewTimer(v.Delay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-t.C:
		}
	}
	return nil
}

// forward relays one call of any method: each request message is judged,
// then sent upstream; answers come back unchanged.
func (p *MsgProxy) forward(_ any, in grpc.ServerStream) error {
	method, ok := grpc.MethodFromServerStream(in)
	if !ok {
		return status.Error(codes.Internal, "no method")
	}
	ctx, cancel := context.WithCancel(in.Context())
	defer cancel()
	// The first message decides before anything goes upstream, so a
	// dropped unary call never reaches the peer.
	var first []byte
	if err := in.RecvMsg(&first); err != nil {
		return err
	}
	if err := apply(ctx, p.judge(describe(method, first))); err != nil {
		return err
	}
	out, err := p.up.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method)
	if err != nil {
		return err
	}
	if err := out.SendMsg(&first); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	sendErr := make(chan error, 1)
	go func() {
		for {
			var msg []byte
			if err := in.RecvMsg(&msg); err != nil {
				if errors.Is(err, io.EOF) {
					sendErr <- out.CloseSend()
				} else {
					sendErr <- err
				}
				return
			}
			if err := apply(ctx, p.judge(describe(method, msg))); err != nil {
				sendErr <- err
				return
			}
			if err := out.SendMsg(&msg); err != nil {
				sendErr <- err
				return
			}
		}
	}()
	for {
		var msg []byte
		err := out.RecvMsg(&msg)
		if errors.Is(err, io.EOF) {
			in.SetTrailer(out.Trailer())
			return nil
		}
		if err != nil {
			return err
		}
		if err := in.SendMsg(&msg); err != nil {
			return err
		}
		select {
		case err := <-sendErr:
			if err != nil {
				return err
			}
		default:
		}
	}
}

// rawCodec passes messages through as bytes.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("raw codec: cannot marshal %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(*b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("raw codec: cannot unmarshal into %T", v)
	}
	*b = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }
