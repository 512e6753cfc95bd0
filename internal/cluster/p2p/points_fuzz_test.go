package p2p

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/shoaldb/shoal/internal/collection"
	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// FuzzPointsResponses: the answers of a peer are decoded by the client
// from whatever bytes arrive. Any bytes that parse as a response convert
// to an error wrapping ErrBadResponse or to values that convert back to a
// message which converts again to the same bytes (never a panic).
func FuzzPointsResponses(f *testing.F) {
	seeds := []proto.Message{
		&p2pv1.SearchResponse{Points: []*p2pv1.ScoredPoint{{Id: &p2pv1.PointId{Id: &p2pv1.PointId_Num{Num: 1}}, Score: 0.5, Payload: []byte(`{"a":1}`),
			Vectors: &p2pv1.Vectors{HasDense: true, Dense: []*p2pv1.DenseVector{{Name: "", Values: []float32{1, 2}}}}}}},
		&p2pv1.ScrollResponse{Records: []*p2pv1.Record{{Id: &p2pv1.PointId{Id: &p2pv1.PointId_Uuid{Uuid: make([]byte, 16)}},
			Vectors:    &p2pv1.Vectors{HasSparse: true, Sparse: []*p2pv1.SparseVector{{Name: "s", Indices: []uint32{1}, Values: []float32{2}}}},
			OrderValue: &p2pv1.OrderValue{Value: &p2pv1.OrderValue_Float{Float: 2}}}}, NextOffset: &p2pv1.PointId{Id: &p2pv1.PointId_Num{Num: 9}}},
		&p2pv1.FacetResponse{Hits: []*p2pv1.FacetHit{{Value: &p2pv1.FacetHit_Keyword{Keyword: "x"}, Count: 3}, {Value: &p2pv1.FacetHit_Boolean{}}}},
		&p2pv1.UpdateResponse{OperationId: 4, Status: p2pv1.UpdateStatus_UPDATE_STATUS_CLOCK_REJECTED, ClockTag: &p2pv1.ClockTag{PeerId: 1, ClockTick: 5}},
	}
	for _, m := range seeds {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	marshal := func(t *testing.T, m proto.Message) []byte {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	checkErr := func(t *testing.T, what string, err error) bool {
		if err == nil {
			return true
		}
		if !errors.Is(err, ErrBadResponse) {
			t.Fatalf("%s: error without ErrBadResponse: %v", what, err)
		}
		return false
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var sr p2pv1.SearchResponse
		if proto.Unmarshal(data, &sr) == nil {
			if hits, err := scoredFromProto(sr.GetPoints()); checkErr(t, "search", err) {
				stable(t, "search", hits, scoredToProto, scoredFromProto, func(p []*p2pv1.ScoredPoint) []byte { return marshal(t, &p2pv1.SearchResponse{Points: p}) })
			}
		}
		var rr p2pv1.RetrieveResponse
		if proto.Unmarshal(data, &rr) == nil {
			if recs, err := recordsFromProto(rr.GetRecords()); checkErr(t, "records", err) {
				stable(t, "records", recs, recordsToProto, recordsFromProto, func(p []*p2pv1.Record) []byte { return marshal(t, &p2pv1.RetrieveResponse{Records: p}) })
			}
		}
		var fr p2pv1.FacetResponse
		if proto.Unmarshal(data, &fr) == nil {
			if hits, err := facetFromProto(fr.GetHits()); checkErr(t, "facet", err) {
				stable(t, "facet", hits, facetToProto, facetFromProto, func(p []*p2pv1.FacetHit) []byte { return marshal(t, &p2pv1.FacetResponse{Hits: p}) })
			}
		}
		var ur p2pv1.UpdateResponse
		if proto.Unmarshal(data, &ur) == nil {
			if res, err := updateResultFromProto(&ur); checkErr(t, "update", err) {
				conv := func(r collection.RemoteUpdateResult) ([]*p2pv1.UpdateResponse, error) {
					return []*p2pv1.UpdateResponse{updateResultToProto(r)}, nil
				}
				back := func(p []*p2pv1.UpdateResponse) (collection.RemoteUpdateResult, error) {
					return updateResultFromProto(p[0])
				}
				stable(t, "update", res, conv, back, func(p []*p2pv1.UpdateResponse) []byte { return marshal(t, p[0]) })
			}
		}
	})
}

// stable converts v to messages and back twice and checks the two
// messages are the same bytes.
func stable[V any, M any](t *testing.T, what string, v V, to func(V) (M, error), from func(M) (V, error), bytesOf func(M) []byte) {
	t.Helper()
	m1, err := to(v)
	if err != nil {
		t.Fatalf("%s: convert back: %v", what, err)
	}
	v2, err := from(m1)
	if err != nil {
		t.Fatalf("%s: convert again: %v", what, err)
	}
	m2, err := to(v2)
	if err != nil {
		t.Fatalf("%s: convert back again: %v", what, err)
	}
	if b1, b2 := bytesOf(m1), bytesOf(m2); !bytes.Equal(b1, b2) {
		t.Fatalf("%s: not stable:\n%x\n%x", what, b1, b2)
	}
}
