package segment

import (
	"time"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/index/payload"
)

// lookup answers a field condition from a payload index, exactly, or says
// it cannot (the planner then checks the condition on each payload).
func (s *Store) lookup(fi *fieldIndex, c *filter.FieldCondition) (bitset, bool) {
	p, ok := answer(fi.idx, c)
	if !ok {
		return nil, false
	}
	b := newBitset(len(s.ids))
	p.ForEach(func(off uint32) bool {
		if int(off) < len(s.live) && s.live[off] {
			b.set(off)
		}
		return true
	})
	return b, true
}

func answer(ix payload.Index, c *filter.FieldCondition) (*payload.Postings, bool) {
	switch c.Kind() {
	case filter.KindMatch:
		return answerMatch(ix, c.Match)
	case filter.KindRange:
		r := payload.NumRange{GT: c.Range.GT, GTE: c.Range.GTE, LT: c.Range.LT, LTE: c.Range.LTE}
		switch x := ix.(type) {
		case *payload.IntegerIndex:
			if x.Schema().RangeEnabled() {
				return x.Range(r), true
			}
		case *payload.FloatIndex:
			return x.Range(r), true
		}
	case filter.KindDatetimeRange:
		if x, ok := ix.(*payload.DatetimeIndex); ok {
			d := c.DatetimeRange
			return x.Range(payload.TimeRange{GT: micros(d.GT), GTE: micros(d.GTE), LT: micros(d.LT), LTE: micros(d.LTE)}), true
		}
	case filter.KindGeoBoundingBox:
		if x, ok := ix.(*payload.GeoIndex); ok {
			return x.BoundingBox(geo(c.GeoBoundingBox.TopLeft), geo(c.GeoBoundingBox.BottomRight)), true
		}
	case filter.KindGeoRadius:
		if x, ok := ix.(*payload.GeoIndex); ok {
			return x.Radius(geo(c.GeoRadius.Center), c.GeoRadius.Radius), true
		}
	case filter.KindGeoPolygon:
		if x, ok := ix.(*payload.GeoIndex); ok {
			holes := make([][]payload.GeoPoint, len(c.GeoPolygon.Interiors))
			for i, h := range c.GeoPolygon.Interiors {
				holes[i] = geos(h.Points)
			}
			return x.Polygon(geos(c.GeoPolygon.Exterior.Points), holes), true
		}
	}
	return nil, false
}

func answerMatch(ix payload.Index, m filter.Match) (*payload.Postings, bool) {
	switch m := m.(type) {
	case *filter.MatchValue:
		v := m.Value
		switch x := ix.(type) {
		case *payload.KeywordIndex:
			if v.Kind == filter.KeywordKind {
				return x.Match(v.Keyword), true
			}
		case *payload.UUIDIndex:
			if v.Kind == filter.KeywordKind {
				return x.Match(v.Keyword), true
			}
		case *payload.IntegerIndex:
			if v.Kind == filter.IntegerKind && x.Schema().LookupEnabled() {
				return x.Match(v.Integer), true
			}
		case *payload.BoolIndex:
			if v.Kind == filter.BoolKind {
				return x.Match(v.Bool), true
			}
		}
	case *filter.MatchAny:
		switch x := ix.(type) {
		case *payload.KeywordIndex:
			if !m.Any.IsIntegers() {
				return x.Match(m.Any.Keywords()...), true
			}
		case *payload.UUIDIndex:
			if !m.Any.IsIntegers() {
				return x.Match(m.Any.Keywords()...), true
			}
		case *payload.IntegerIndex:
			if m.Any.IsIntegers() && x.Schema().LookupEnabled() {
				return x.Match(m.Any.Integers()...), true
			}
		}
	case *filter.MatchPrefix:
		if x, ok := ix.(*payload.KeywordIndex); ok {
			return x.Prefix(m.Prefix), true
		}
	case *filter.MatchText:
		if x, ok := ix.(*payload.TextIndex); ok {
			return x.Match(m.Text), true
		}
	case *filter.MatchPhrase:
		if x, ok := ix.(*payload.TextIndex); ok {
			return x.Phrase(m.Phrase), true
		}
	case *filter.MatchTextAny:
		if x, ok := ix.(*payload.TextIndex); ok {
			return x.Any(m.TextAny), true
		}
	}
	return nil, false
}

func micros(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.UnixMicro()
	return &v
}

func geo(p filter.GeoPoint) payload.GeoPoint { return payload.GeoPoint{Lon: p.Lon, Lat: p.Lat} }

func geos(ps []filter.GeoPoint) []payload.GeoPoint {
	out := make([]payload.GeoPoint, len(ps))
	for i, p := range ps {
		out[i] = geo(p)
	}
	return out
}
