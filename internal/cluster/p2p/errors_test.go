package p2p

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shoaldb/shoal/internal/cluster/consensus"
	"github.com/shoaldb/shoal/internal/point"
)

func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		err      error
		code     codes.Code
		kind     point.Kind
		desc     string
		retrying bool
	}{
		{err: point.Errorf(point.KindBadInput, "bad"), code: codes.InvalidArgument, kind: point.KindBadInput, desc: "bad"},
		{err: point.Errorf(point.KindBadRequest, "req"), code: codes.InvalidArgument, kind: point.KindBadRequest, desc: "req"},
		{err: fmt.Errorf("wrapped: %w", point.CollectionNotFound("c")), code: codes.NotFound, kind: point.KindNotFound, desc: "Collection `c` doesn't exist!"},
		{err: point.Errorf(point.KindAlreadyExists, "dup"), code: codes.AlreadyExists, kind: point.KindAlreadyExists, desc: "dup"},
		{err: point.Errorf(point.KindValidation, "val"), code: codes.InvalidArgument, kind: point.KindValidation, desc: "val"},
		{err: point.Errorf(point.KindUnavailable, "busy"), code: codes.Unavailable, kind: point.KindUnavailable, desc: "busy", retrying: true},
		{err: fmt.Errorf("step: %w", consensus.ErrBadMessage), code: codes.InvalidArgument, kind: point.KindBadInput, desc: "step: consensus: malformed raft message"},
		{err: consensus.ErrTimeout, code: codes.DeadlineExceeded, kind: point.KindTimeout, desc: consensus.ErrTimeout.Error(), retrying: true},
		{err: context.DeadlineExceeded, code: codes.DeadlineExceeded, kind: point.KindTimeout, desc: "context deadline exceeded", retrying: true},
		{err: context.Canceled, code: codes.Canceled, kind: point.KindUnavailable, desc: "context canceled", retrying: true},
		{err: consensus.ErrStopped, code: codes.Unavailable, kind: point.KindUnavailable, desc: consensus.ErrStopped.Error(), retrying: true},
		{err: errors.New("boom"), code: codes.Internal, kind: point.KindInternal, desc: "boom", retrying: true},
		{err: status.Error(codes.PermissionDenied, "no"), code: codes.PermissionDenied, kind: point.KindInternal, desc: "no"},
	} {
		st := toStatus(tc.err)
		if status.Code(st) != tc.code {
			t.Errorf("%v: code %v, want %v", tc.err, status.Code(st), tc.code)
		}
		back := fromStatus(st)
		if point.KindOf(back) != tc.kind || point.DescriptionOf(back) != tc.desc {
			t.Errorf("%v: back as kind %v %q, want %v %q", tc.err, point.KindOf(back), point.DescriptionOf(back), tc.kind, tc.desc)
		}
		if retryable(st) != tc.retrying {
			t.Errorf("%v: retryable %v", tc.err, retryable(st))
		}
		if pe := fromProtoError(toProtoError(tc.err)); point.KindOf(pe) != point.KindOf(tc.err) {
			t.Errorf("%v: proto error kind %v", tc.err, point.KindOf(pe))
		}
	}
	if toStatus(nil) != nil || fromStatus(nil) != nil || toProtoError(nil) != nil || fromProtoError(nil) != nil {
		t.Error("nil must stay nil")
	}
	// A status without the kind detail maps by its code.
	if k := point.KindOf(fromStatus(status.Error(codes.NotFound, "x"))); k != point.KindNotFound {
		t.Errorf("plain NotFound: kind %v", k)
	}
}
