//go:build linux

package e2e

import (
	"fmt"
	"testing"
)

// TestGracefulShutdown stops the server with SIGTERM: it must exit 0, and a
// restart on the same storage must find every write, including those
// acknowledged without waiting.
func TestGracefulShutdown(t *testing.T) {
	s := newServer(t)
	s.start()
	s.must("PUT", "/collections/plain", map[string]any{"vectors": map[string]any{"size": 3, "distance": "Euclid"}}, nil)
	s.must("PUT", "/collections/named", map[string]any{"vectors": map[string]any{
		"text":  map[string]any{"size": 2, "distance": "Dot"},
		"image": map[string]any{"size": 3, "distance": "Euclid"},
	}}, nil)

	want := map[uint64]*pointState{}
	for batch := range 20 {
		wait := batch%2 == 0 // half of the batches are acknowledged before they are applied
		var points []any
		for i := range 10 {
			id := uint64(batch*10 + i)
			p := &pointState{
				Vector:  []float32{float32(id), float32(i) / 4, -1.5},
				Payload: map[string]any{"batch": batch, "name": fmt.Sprintf("p%d", id)},
			}
			points = append(points, map[string]any{"id": id, "vector": p.Vector, "payload": p.Payload})
			p.Payload = canonical(p.Payload)
			want[id] = p
		}
		s.must("PUT", fmt.Sprintf("/collections/plain/points?wait=%t", wait), map[string]any{"points": points}, nil)
	}
	s.must("POST", "/collections/plain/points/delete?wait=false", map[string]any{"points": []int{3, 4, 5}}, nil)
	delete(want, 3)
	delete(want, 4)
	delete(want, 5)
	s.must("POST", "/collections/plain/points/payload?wait=false", map[string]any{"points": []int{7}, "payload": map[string]any{"late": true}}, nil)
	want[7].Payload["late"] = true
	want[7].Payload = canonical(want[7].Payload)
	s.must("PUT", "/collections/named/points?wait=false", map[string]any{"points": []any{
		map[string]any{"id": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "vector": map[string]any{"text": []float32{1, 2}, "image": []float32{3, 4, 5}}},
	}}, nil)

	if code := s.stop(); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d, want 0", code)
	}
	if len(s.logLines("shoal stopped")) == 0 {
		t.Errorf("no \"shoal stopped\" line after SIGTERM")
	}
	if s.answers() {
		t.Errorf("the server still answers after it exited")
	}

	s.start()
	checkState(t, s, "plain", want)

	var named struct {
		Config struct {
			Params struct {
				Vectors map[string]struct {
					Size     int    `json:"size"`
					Distance string `json:"distance"`
				} `json:"vectors"`
			} `json:"params"`
		} `json:"config"`
		PointsCount int `json:"points_count"`
	}
	s.must("GET", "/collections/named", nil, &named)
	if v := named.Config.Params.Vectors; v["text"].Size != 2 || v["text"].Distance != "Dot" || v["image"].Size != 3 || v["image"].Distance != "Euclid" {
		t.Errorf("named collection config after restart: %+v", v)
	}
	var pts []struct {
		ID     string               `json:"id"`
		Vector map[string][]float32 `json:"vector"`
	}
	s.must("POST", "/collections/named/points", map[string]any{"ids": []string{"5c56c793-69f3-4fbf-87e6-c4bf54c28c26"}, "with_vector": true}, &pts)
	if len(pts) != 1 || fmt.Sprint(pts[0].Vector) != "map[image:[3 4 5] text:[1 2]]" {
		t.Errorf("named point after restart: %+v", pts)
	}

	if code := s.stop(); code != 0 {
		t.Fatalf("exit code after the second SIGTERM: %d, want 0", code)
	}
	if s.answers() {
		t.Errorf("the server still answers after it exited")
	}
}
