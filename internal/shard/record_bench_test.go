package shard

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// BenchmarkRecord encodes and decodes the WAL record of an upsert of 100
// points of 768 dimensions with a small payload, in format 1 (JSON, as
// versions before the vocabulary wrote it) and format 2.
func BenchmarkRecord(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	op := &ops.Operation{Kind: ops.Upsert, Points: make([]ops.PointStruct, 100)}
	legacy := legacyOperation{Kind: ops.Upsert, Points: make([]legacyPointStruct, 100)}
	for i := range op.Points {
		v := make([]float32, 768)
		for j := range v {
			v[j] = r.Float32()*2 - 1
		}
		p := point.Payload{"i": json.Number(fmt.Sprint(i)), "tag": "t" + fmt.Sprint(i%7)}
		op.Points[i] = ops.PointStruct{ID: point.NumID(uint64(i)), Vectors: point.Vectors{"": v}, Payload: p}
		legacy.Points[i] = legacyPointStruct{ID: op.Points[i].ID, Vectors: op.Points[i].Vectors, Payload: op.Points[i].Payload}
	}
	v1, err := json.Marshal(&legacy)
	if err != nil {
		b.Fatal(err)
	}
	v2, err := record{op: op}.encode()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode/format1", func(b *testing.B) {
		b.SetBytes(int64(len(v1)))
		for b.Loop() {
			if _, err := json.Marshal(&legacy); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode/format2", func(b *testing.B) {
		b.SetBytes(int64(len(v2)))
		for b.Loop() {
			if _, err := (record{op: op}).encode(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/format1", func(b *testing.B) {
		b.SetBytes(int64(len(v1)))
		for b.Loop() {
			if _, err := decodeRecord(v1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/format2", func(b *testing.B) {
		b.SetBytes(int64(len(v2)))
		for b.Loop() {
			if _, err := decodeRecord(v2); err != nil {
				b.Fatal(err)
			}
		}
	})
}
