package p2pv1_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// fakeRaft records what it receives; it stands for the consensus side.
type fakeRaft struct {
	p2pv1.UnimplementedRaftServer
	got [][]byte
}

func (f *fakeRaft) Send(_ context.Context, m *p2pv1.RaftMessage) (*p2pv1.SendResponse, error) {
	f.got = append(f.got, m.GetMessage())
	return &p2pv1.SendResponse{}, nil
}

func (f *fakeRaft) SendStream(stream grpc.ClientStreamingServer[p2pv1.RaftMessage, p2pv1.SendResponse]) error {
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&p2pv1.SendResponse{})
		}
		if err != nil {
			return err
		}
		f.got = append(f.got, m.GetMessage())
	}
}

func (f *fakeRaft) AddPeerToKnown(_ context.Context, r *p2pv1.AddPeerToKnownRequest) (*p2pv1.AddPeerToKnownResponse, error) {
	return &p2pv1.AddPeerToKnownResponse{
		AllPeers:    []*p2pv1.Peer{{Id: 1, Uri: "http://first:6335"}, {Id: r.GetId(), Uri: r.GetUri()}},
		FirstPeerId: 1,
	}, nil
}

// The generated code works with the grpc module in go.mod: a client reaches
// a server over an in-memory connection, unary and streaming.
func TestServiceRoundTrip(t *testing.T) {
	lis := bufconn.Listen(1 << 16)
	srv := grpc.NewServer()
	raft := &fakeRaft{}
	p2pv1.RegisterRaftServer(srv, raft)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := p2pv1.NewRaftClient(conn)

	if _, err := client.Send(ctx, &p2pv1.RaftMessage{Message: []byte("m1")}); err != nil {
		t.Fatal(err)
	}
	stream, err := client.SendStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"m2", "m3"} {
		if err := stream.Send(&p2pv1.RaftMessage{Message: []byte(m)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		t.Fatal(err)
	}
	if len(raft.got) != 3 || string(raft.got[2]) != "m3" {
		t.Fatalf("server got %q", raft.got)
	}
	resp, err := client.AddPeerToKnown(ctx, &p2pv1.AddPeerToKnownRequest{Id: 7, Uri: "http://new:6335"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetFirstPeerId() != 1 || len(resp.GetAllPeers()) != 2 || resp.GetAllPeers()[1].GetUri() != "http://new:6335" {
		t.Fatalf("AddPeerToKnown answered %v", resp)
	}
	// Unimplemented methods answer an error, not a hang.
	if _, err := client.WhoIs(ctx, &p2pv1.WhoIsRequest{Id: 1}); err == nil {
		t.Fatal("WhoIs of the fake answered")
	}
}

func TestMessagesRoundTrip(t *testing.T) {
	in := &p2pv1.UpdateRequest{
		Collection: "c", ShardId: 3, Operation: []byte(`{"upsert":{}}`), Wait: true,
		Ordering: p2pv1.WriteOrdering_WRITE_ORDERING_STRONG,
		ClockTag: &p2pv1.ClockTag{PeerId: 2, ClockId: 1, ClockTick: 99, Token: 5},
	}
	b, err := proto.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out p2pv1.UpdateRequest
	if err := proto.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(in, &out) {
		t.Fatalf("round trip: %v vs %v", in, &out)
	}
}
