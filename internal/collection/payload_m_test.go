package collection

import "testing"

// TestIndexParamsPayloadM: payload_m follows m when unset (as in Qdrant),
// 0 disables it, and a vector's own hnsw_config overrides the collection's.
func TestIndexParamsPayloadM(t *testing.T) {
	u := func(v uint64) *uint64 { return &v }
	for _, c := range []struct {
		name      string
		coll, vec *uint64
		m         *uint64
		want      int
	}{
		{"unset follows m", nil, nil, nil, 16},
		{"unset follows the vector's m", nil, nil, u(32), 32},
		{"collection", u(8), nil, nil, 8},
		{"disabled", u(0), nil, nil, 0},
		{"vector overrides", u(0), u(12), nil, 12},
	} {
		cfg := &Config{HnswConfig: HnswConfig{M: 16, EfConstruct: 100, FullScanThreshold: 10000, PayloadM: c.coll}}
		p := VectorParams{Size: 4, Distance: "Cosine"}
		if c.vec != nil || c.m != nil {
			p.HnswConfig = &HnswConfigDiff{PayloadM: c.vec, M: c.m}
		}
		if got := indexParams(cfg, p).PayloadM; got != c.want {
			t.Errorf("%s: payload_m %d, want %d", c.name, got, c.want)
		}
	}
}
