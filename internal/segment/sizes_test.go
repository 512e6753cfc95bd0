package segment

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
)

// TestStoredVectorBytes counts the live points' vectors in their
// datatypes: deleted points and points without a vector weigh nothing.
func TestStoredVectorBytes(t *testing.T) {
	s := NewStore(map[string]VectorSpec{
		"f32": {Dim: 4, Distance: "Dot"},
		"f16": {Dim: 4, Distance: "Dot", Datatype: Float16},
		"u8":  {Dim: 8, Distance: "Dot", Datatype: Uint8},
	})
	all := point.Vectors{"f32": {1, 2, 3, 4}, "f16": {1, 2, 3, 4}, "u8": {1, 2, 3, 4, 5, 6, 7, 8}}
	s.Upsert(point.NumID(1), 1, all, nil)
	s.Upsert(point.NumID(2), 1, all, nil)
	s.Upsert(point.NumID(3), 1, point.Vectors{"f32": {1, 2, 3, 4}}, nil)
	if got, want := s.StoredVectorBytes(), int64(3*16+2*8+2*8); got != want {
		t.Fatalf("vector bytes = %d, want %d", got, want)
	}
	s.Delete(point.NumID(2))
	if got, want := s.StoredVectorBytes(), int64(2*16+8+8); got != want {
		t.Fatalf("after a delete: vector bytes = %d, want %d", got, want)
	}
}

// TestPayloadBytes: the payload size is the length of the payloads' compact
// JSON, counted without encoding them; seeded random payloads are held
// against encoding/json.
func TestPayloadBytes(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	s := NewStore(map[string]VectorSpec{"": {Dim: 1, Distance: "Dot"}})
	var want int64
	for i := range 200 {
		pl := point.Payload{}
		for k := range rng.IntN(5) {
			pl[string(rune('a'+k))+"key"] = randomValue(rng, 3)
		}
		b, err := json.Marshal(pl)
		if err != nil {
			t.Fatal(err)
		}
		id := point.NumID(uint64(i))
		s.Upsert(id, 1, point.Vectors{"": {1}}, pl)
		if i%10 == 0 {
			s.Delete(id)
			continue
		}
		want += int64(len(b))
	}
	s.Upsert(point.NumID(1000), 1, point.Vectors{"": {1}}, nil) // no payload
	if got := s.PayloadBytes(); got != want {
		t.Fatalf("payload bytes = %d, want %d", got, want)
	}
}

func randomValue(rng *rand.Rand, depth int) any {
	switch k := rng.IntN(8); {
	case k == 0:
		return nil
	case k == 1:
		return rng.IntN(2) == 0
	case k == 2:
		return "s" + string(rune('a'+rng.IntN(26)))
	case k == 3:
		return json.Number("12.5")
	case k == 4:
		return rng.NormFloat64() * math.Pow(10, float64(rng.IntN(50)-25))
	case k == 5 && depth > 0:
		out := make([]any, rng.IntN(4))
		for i := range out {
			out[i] = randomValue(rng, depth-1)
		}
		return out
	case k == 6 && depth > 0:
		out := map[string]any{}
		for i := range rng.IntN(4) {
			out[string(rune('k'+i))] = randomValue(rng, depth-1)
		}
		return out
	}
	return int64(rng.IntN(100000)) - 500
}
