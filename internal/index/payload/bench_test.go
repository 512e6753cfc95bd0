package payload

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

const benchPoints = 100_000

func benchRand(b *testing.B) *rand.Rand {
	b.Logf("seed %d", 20261125)
	return rand.New(rand.NewPCG(20261125, 7))
}

// benchValues returns one value list per point for the index type.
func benchValues(b *testing.B, ty Type) [][]any {
	b.Logf("seed %d", 20261125)
	return benchValuesN(ty, benchPoints)
}

func benchValuesN(ty Type, n int) [][]any {
	rng := rand.New(rand.NewPCG(20261125, 7))
	words := make([]string, 1000)
	for i := range words {
		words[i] = "w" + strconv.Itoa(i)
	}
	vals := make([][]any, n)
	for i := range vals {
		switch ty {
		case Keyword:
			vals[i] = []any{fmt.Sprintf("k%d", rng.IntN(1000))}
		case Integer:
			vals[i] = []any{json.Number(strconv.Itoa(rng.IntN(1_000_000)))}
		case Float:
			vals[i] = []any{rng.Float64() * 1000}
		case Geo:
			vals[i] = []any{map[string]any{"lon": rng.Float64()*360 - 180, "lat": rng.Float64()*180 - 90}}
		case Text:
			s := ""
			for range 12 {
				s += words[rng.IntN(len(words))] + " "
			}
			vals[i] = []any{s}
		}
	}
	return vals
}

func buildBench(b *testing.B, schema string) (Index, [][]any) {
	s := mustSchema(b, schema)
	vals := benchValues(b, s.Type)
	x := New(s)
	for i, v := range vals {
		x.Add(uint32(i), v)
	}
	return x, vals
}

func BenchmarkAdd(b *testing.B) {
	for _, schema := range []string{`"keyword"`, `"integer"`, `"float"`, `"geo"`, `"text"`} {
		b.Run(schema, func(b *testing.B) {
			vals := benchValues(b, mustSchema(b, schema).Type)
			x := New(mustSchema(b, schema))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				off := uint32(i % benchPoints)
				x.Add(off, vals[off])
			}
		})
	}
}

func BenchmarkQuery(b *testing.B) {
	b.Run("keyword/match", func(b *testing.B) {
		x, _ := buildBench(b, `"keyword"`)
		ix := x.(*KeywordIndex)
		b.ResetTimer()
		for i := range b.N {
			ix.Match(fmt.Sprintf("k%d", i%1000))
		}
	})
	b.Run("keyword/match-any-50", func(b *testing.B) {
		x, _ := buildBench(b, `"keyword"`)
		ix := x.(*KeywordIndex)
		q := make([]string, 50)
		for i := range q {
			q[i] = fmt.Sprintf("k%d", i)
		}
		b.ResetTimer()
		for range b.N {
			ix.Match(q...)
		}
	})
	b.Run("integer/match", func(b *testing.B) {
		x, _ := buildBench(b, `"integer"`)
		ix := x.(*IntegerIndex)
		b.ResetTimer()
		for i := range b.N {
			ix.Match(int64(i % 1_000_000))
		}
	})
	for _, frac := range []float64{0.001, 0.1, 0.5} {
		b.Run(fmt.Sprintf("integer/range-%g", frac), func(b *testing.B) {
			x, _ := buildBench(b, `"integer"`)
			ix := x.(*IntegerIndex)
			r := NumRange{GTE: fptr(100_000), LT: fptr(100_000 + frac*1_000_000)}
			b.ResetTimer()
			for range b.N {
				ix.Range(r)
			}
		})
		b.Run(fmt.Sprintf("float/range-%g", frac), func(b *testing.B) {
			x, _ := buildBench(b, `"float"`)
			ix := x.(*FloatIndex)
			r := NumRange{GTE: fptr(100), LT: fptr(100 + frac*1000)}
			b.ResetTimer()
			for range b.N {
				ix.Range(r)
			}
		})
	}
	b.Run("geo/radius-500km", func(b *testing.B) {
		x, _ := buildBench(b, `"geo"`)
		ix := x.(*GeoIndex)
		b.ResetTimer()
		for range b.N {
			ix.Radius(GeoPoint{13.4, 52.5}, 500_000)
		}
	})
	b.Run("text/match-2-tokens", func(b *testing.B) {
		x, _ := buildBench(b, `"text"`)
		ix := x.(*TextIndex)
		b.ResetTimer()
		for i := range b.N {
			ix.Match(fmt.Sprintf("w%d w%d", i%1000, (i*7)%1000))
		}
	})
	b.Run("postings/intersect", func(b *testing.B) {
		rng := benchRand(b)
		a, c := &Postings{}, &Postings{}
		for range benchPoints / 2 {
			a.Add(rng.Uint32N(benchPoints))
			c.Add(rng.Uint32N(benchPoints))
		}
		b.ResetTimer()
		for range b.N {
			Intersect(a, c)
		}
	})
}
