package p2p

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/point"
	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// The ShardTransfer service carries the archive of a snapshot transfer:
// the source streams it in chunks (SendShardSnapshot, a client stream);
// the target hands the chunks as one reader to its replicas
// (SnapshotReplicas), which write it to a temporary file, check it and
// swap it in. chunkReader checks the stream as it goes: a header in the
// first chunk only, chunks of at most MaxSnapshotChunk bytes, no byte
// beyond the announced size; the replicas refuse a stream shorter than
// announced or not a valid archive.

// MaxSnapshotChunk bounds the data of one chunk of a snapshot stream.
const MaxSnapshotChunk = 4 << 20

// snapshotChunk is the data the client puts in one chunk.
const snapshotChunk = 1 << 20

// SnapshotReplicas is what the server needs of the local replicas to take
// the archive of a snapshot transfer; LocalReplicas that do not implement
// it answer Unimplemented.
type SnapshotReplicas interface {
	// ReceiveShardSnapshot replaces the replica of shard by the archive
	// of size bytes read from r, sent by peer from
	// (collection.ReplicaReceiveSnapshot, once the transfer is checked).
	ReceiveShardSnapshot(ctx context.Context, collection string, shard collection.ShardID, from uint64, size int64, r io.Reader) error
}

type transferService struct {
	p2pv1.UnimplementedShardTransferServer
	s *Server
}

// SendSnapshot takes the archive of a snapshot transfer. The caller's
// deadline, if any, bounds it; it has no default one (an archive may take
// long), and ends when the caller cancels or goes away.
func (t transferService) SendSnapshot(stream grpc.ClientStreamingServer[p2pv1.SnapshotChunk, p2pv1.SendSnapshotResponse]) error {
	r := t.s.cfg.Replicas
	sr, ok := r.(SnapshotReplicas)
	if !ok {
		return status.Error(codes.Unimplemented, "this peer takes no shard snapshots")
	}
	ctx := stream.Context()
	first, err := stream.Recv()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return toStatus(malformed("snapshot", errors.New("the stream holds no chunk")))
		}
		return err // the stream broke; gRPC already has its status
	}
	cr, err := newChunkReader(first, stream.Recv)
	if err != nil {
		return toStatus(malformed("snapshot", err))
	}
	h := first.GetHeader()
	t.s.log.Info("receiving a shard snapshot", "collection", h.GetCollection(), "shard", h.GetShardId(), "from", h.GetFromPeerId(), "bytes", h.GetSize())
	if err := sr.ReceiveShardSnapshot(ctx, h.GetCollection(), h.GetShardId(), h.GetFromPeerId(), int64(h.GetSize()), cr); err != nil {
		return failed(ctx, err)
	}
	return stream.SendAndClose(&p2pv1.SendSnapshotResponse{Received: uint64(cr.n)})
}

// chunkReader reads the data of a snapshot stream's chunks in order; a
// chunk that breaks the rules ends it with a bad-input error, the end of
// the stream with io.EOF.
type chunkReader struct {
	recv func() (*p2pv1.SnapshotChunk, error)
	buf  []byte
	n    int64 // bytes received so far
	size int64 // bytes announced
	err  error // sticky
}

// newChunkReader checks the first chunk of a stream.
func newChunkReader(first *p2pv1.SnapshotChunk, recv func() (*p2pv1.SnapshotChunk, error)) (*chunkReader, error) {
	h := first.GetHeader()
	switch {
	case h == nil:
		return nil, errors.New("the first chunk has no header")
	case h.GetCollection() == "":
		return nil, errors.New("the header names no collection")
	case h.GetSize() > math.MaxInt64:
		return nil, fmt.Errorf("the announced size %d is out of range", h.GetSize())
	}
	cr := &chunkReader{recv: recv, size: int64(h.GetSize())}
	if err := cr.take(first, true); err != nil {
		return nil, err
	}
	return cr, nil
}

// take checks a chunk and makes its data the next to read.
func (c *chunkReader) take(m *p2pv1.SnapshotChunk, first bool) error {
	d := m.GetData()
	switch {
	case !first && m.GetHeader() != nil:
		return errors.New("a chunk after the first has a header")
	case !first && len(d) == 0:
		return errors.New("an empty chunk")
	case len(d) > MaxSnapshotChunk:
		return fmt.Errorf("a chunk of %d bytes is over the limit of %d", len(d), MaxSnapshotChunk)
	case int64(len(d)) > c.size-c.n:
		return fmt.Errorf("the stream goes beyond the announced %d bytes", c.size)
	}
	c.buf = d
	c.n += int64(len(d))
	return nil
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		m, err := c.recv()
		switch {
		case errors.Is(err, io.EOF):
			c.err = io.EOF
		case err != nil:
			c.err = fmt.Errorf("receive a snapshot chunk: %w: %w", ErrTransport, err)
		default:
			if err := c.take(m, false); err != nil {
				c.err = malformed("snapshot", err)
			}
		}
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

var _ collection.SnapshotRemote = (*RemotePeer)(nil)

// SendShardSnapshot streams a shard archive of size bytes from src to the
// peer, which replaces its replica of the shard by it (from: this peer,
// the transfer's source); sent is called
// with the bytes sent after each chunk. It returns once the peer has
// swapped the replica in (or refused the archive). The context bounds the
// whole stream (no default timeout: an archive may take long).
func (r *RemotePeer) SendShardSnapshot(ctx context.Context, coll string, shard collection.ShardID, from uint64, size int64, src io.Reader, sent func(int64)) error {
	const method = "send shard snapshot"
	if size < 0 {
		return point.Errorf(point.KindBadInput, "a shard snapshot of unknown size cannot be sent")
	}
	cc, uri, err := r.conns.Conn(r.peer)
	if err != nil {
		return fmt.Errorf("%s on peer %d: %w: %w", method, r.peer, ErrTransport, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // a failure below ends the stream
	stream, err := p2pv1.NewShardTransferClient(cc).SendSnapshot(ctx, grpc.MaxCallSendMsgSize(r.cfg.MaxMessageSize), grpc.MaxCallRecvMsgSize(r.cfg.MaxMessageSize))
	if err != nil {
		return callError(ctx, r.peer, method+" at "+uri, err)
	}
	header := &p2pv1.SnapshotHeader{Collection: coll, ShardId: shard, Size: uint64(size), FromPeerId: from}
	var n int64
	for {
		// A new buffer per chunk: gRPC may hold a message it was given.
		buf := make([]byte, min(int64(snapshotChunk), max(size-n, 0)))
		k, rerr := io.ReadFull(src, buf)
		if k > 0 || header != nil {
			if err := stream.Send(&p2pv1.SnapshotChunk{Header: header, Data: buf[:k]}); err != nil {
				if errors.Is(err, io.EOF) {
					// The peer ended the stream: its status says why.
					_, err = stream.CloseAndRecv()
				}
				return callError(ctx, r.peer, method+" at "+uri, err)
			}
			header = nil
			n += int64(k)
			if sent != nil {
				sent(n)
			}
		}
		if n >= size || errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return fmt.Errorf("%s to peer %d: read the archive: %w", method, r.peer, rerr)
		}
	}
	if n != size {
		return fmt.Errorf("%s to peer %d: the archive holds %d bytes, not the %d announced", method, r.peer, n, size)
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		return callError(ctx, r.peer, method+" at "+uri, err)
	}
	return nil
}
