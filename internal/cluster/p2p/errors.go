package p2p

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shoaldb/shoal/internal/cluster/consensus"
	"github.com/shoaldb/shoal/internal/point"
	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// This file is the one place where errors cross the wire: a handler's error
// becomes a gRPC status (toStatus), a status received by a client becomes a
// point.Error of the matching kind (fromStatus), and an application error
// carried inside a response travels as p2pv1.Error (toProtoError,
// fromProtoError).

// toStatus maps an error of a handler to a gRPC status error: the code as
// Qdrant's internal services answer, and the exact kind as a p2pv1.Error
// detail, so that a peer forwarding the error keeps its Qdrant status.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	// Only a status itself passes through: status.FromError would also
	// find one deep in the chain, e.g. an engine error that wraps the
	// failure of a call it made to a third peer, and send that peer's
	// status as this one's answer.
	if _, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
		return err
	}
	kind := point.KindOf(err)
	switch {
	case errors.Is(err, consensus.ErrBadMessage):
		kind = point.KindBadInput
	case errors.Is(err, consensus.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		kind = point.KindTimeout
	case errors.Is(err, consensus.ErrStopped), errors.Is(err, context.Canceled):
		kind = point.KindUnavailable
	}
	code := kindCodes[kind]
	if errors.Is(err, context.Canceled) {
		code = codes.Canceled
	}
	desc := point.DescriptionOf(err)
	st := status.New(code, desc)
	if withKind, derr := st.WithDetails(&p2pv1.Error{Kind: protoKinds[kind], Description: desc}); derr == nil {
		st = withKind
	}
	return st.Err()
}

var kindCodes = map[point.Kind]codes.Code{
	point.KindInternal:      codes.Internal,
	point.KindBadInput:      codes.InvalidArgument,
	point.KindBadRequest:    codes.InvalidArgument,
	point.KindNotFound:      codes.NotFound,
	point.KindAlreadyExists: codes.AlreadyExists,
	point.KindValidation:    codes.InvalidArgument,
	point.KindTimeout:       codes.DeadlineExceeded,
	point.KindUnavailable:   codes.Unavailable,
}

// fromStatus maps an error returned by a gRPC call to a point.Error: of the
// kind the peer attached, else of the kind matching the status code. The
// status stays in the chain.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		if pe, ok := d.(*p2pv1.Error); ok {
			return &point.Error{Kind: kindFromProto(pe.GetKind()), Description: st.Message(), Err: err}
		}
	}
	kind := point.KindInternal
	switch st.Code() {
	case codes.InvalidArgument:
		kind = point.KindBadInput
	case codes.FailedPrecondition:
		kind = point.KindBadRequest
	case codes.NotFound:
		kind = point.KindNotFound
	case codes.AlreadyExists:
		kind = point.KindAlreadyExists
	case codes.DeadlineExceeded:
		kind = point.KindTimeout
	case codes.Unavailable, codes.Canceled, codes.ResourceExhausted, codes.Aborted:
		kind = point.KindUnavailable
	}
	return &point.Error{Kind: kind, Description: st.Message(), Err: err}
}

// retryable reports whether a failed call may succeed when repeated: the
// peer was unreachable or busy, rather than refusing the request.
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.PermissionDenied,
		codes.FailedPrecondition, codes.OutOfRange, codes.Unimplemented, codes.Unauthenticated:
		return false
	}
	return true
}

var protoKinds = map[point.Kind]p2pv1.ErrorKind{
	point.KindInternal:      p2pv1.ErrorKind_ERROR_KIND_INTERNAL,
	point.KindBadInput:      p2pv1.ErrorKind_ERROR_KIND_BAD_INPUT,
	point.KindBadRequest:    p2pv1.ErrorKind_ERROR_KIND_BAD_REQUEST,
	point.KindNotFound:      p2pv1.ErrorKind_ERROR_KIND_NOT_FOUND,
	point.KindAlreadyExists: p2pv1.ErrorKind_ERROR_KIND_ALREADY_EXISTS,
	point.KindValidation:    p2pv1.ErrorKind_ERROR_KIND_VALIDATION,
	point.KindTimeout:       p2pv1.ErrorKind_ERROR_KIND_TIMEOUT,
	point.KindUnavailable:   p2pv1.ErrorKind_ERROR_KIND_UNAVAILABLE,
}

// toProtoError carries an application error (the request reached the peer
// and was refused) inside a response; nil stays nil.
func toProtoError(err error) *p2pv1.Error {
	if err == nil {
		return nil
	}
	return &p2pv1.Error{Kind: protoKinds[point.KindOf(err)], Description: point.DescriptionOf(err)}
}

// fromProtoError turns an application error of a response back into a
// point.Error; nil stays nil, and an unknown kind is internal.
func fromProtoError(e *p2pv1.Error) error {
	if e == nil {
		return nil
	}
	return &point.Error{Kind: kindFromProto(e.GetKind()), Description: e.GetDescription()}
}

func kindFromProto(pk p2pv1.ErrorKind) point.Kind {
	for k, v := range protoKinds {
		if v == pk {
			return k
		}
	}
	return point.KindInternal
}

// ErrTransport marks a call to a peer's Points service that got no answer
// of the peer's engine: the peer could not be reached, the call's context
// ended, the peer does not serve the service. Whether an update it carried
// was applied is unknown. It is never a *point.Error, so that
// collection.Remote's callers tell it from a refusal by point.KindOf alone.
var ErrTransport = errors.New("peer did not answer")

// callError maps the error of a call of the Points service: a status with
// an Error detail is the peer engine's refusal and becomes a point.Error
// of that kind and text (the status stays in the chain); a message over
// the size bound is refused the same way on either side, and becomes a
// bad request; anything else is a transport failure wrapping ErrTransport
// and, when the caller's context ended (or the call's deadline passed on
// either side), the context's error. The status stays in the chain.
func callError(ctx context.Context, peer uint64, method string, err error) error {
	st, ok := status.FromError(err)
	if ok {
		for _, d := range st.Details() {
			if pe, ok := d.(*p2pv1.Error); ok && ctx.Err() == nil {
				return &point.Error{Kind: kindFromProto(pe.GetKind()), Description: pe.GetDescription(), Err: err}
			}
		}
		if st.Code() == codes.ResourceExhausted {
			return &point.Error{Kind: point.KindBadRequest, Description: st.Message(), Err: err}
		}
	}
	cerr := ctx.Err()
	if cerr == nil && ok {
		// The call's deadline, which travels with it, may end the call on
		// either side a moment before the caller's context sees it.
		switch st.Code() {
		case codes.DeadlineExceeded:
			cerr = context.DeadlineExceeded
		case codes.Canceled:
			cerr = context.Canceled
		}
	}
	if cerr != nil {
		return fmt.Errorf("%s on peer %d: %w: %w (%w)", method, peer, ErrTransport, cerr, err)
	}
	return fmt.Errorf("%s on peer %d: %w: %w", method, peer, ErrTransport, err)
}
