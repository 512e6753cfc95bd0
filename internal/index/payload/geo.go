package payload

import (
	"io"
	"math"
	"slices"
)

// GeoIndex indexes geo points ({"lon", "lat"} objects). Each point is keyed
// by the Z-order (Morton) code of its quantised coordinates, so a cell of
// any size is a contiguous key range, as geohash prefixes are in Qdrant's
// geo index. A query covers its shape's bounding rectangle with a few
// cells, scans their key ranges and checks each candidate exactly, so the
// answer equals a scan of the payloads.
type GeoIndex struct {
	schema  Schema
	list    sortedList[uint64]
	points  perPoint[GeoPoint]
	npoints int
	nvalues int
}

// NewGeoIndex returns an empty geo index.
func NewGeoIndex(s Schema) *GeoIndex { return &GeoIndex{schema: s} }

// Schema implements Index.
func (x *GeoIndex) Schema() Schema { return x.schema }

// Add implements Index.
func (x *GeoIndex) Add(off uint32, values []any) {
	var pts []GeoPoint
	for _, v := range values {
		if p, ok := asGeoPoint(v); ok && !slices.Contains(pts, p) {
			pts = append(pts, p)
		}
	}
	x.set(off, pts)
}

func (x *GeoIndex) set(off uint32, pts []GeoPoint) {
	x.Remove(off)
	if len(pts) == 0 {
		return
	}
	for _, p := range pts {
		x.list.insert(entry[uint64]{zorder(p), off})
	}
	x.points.set(off, pts)
	x.npoints++
	x.nvalues += len(pts)
}

// Remove implements Index.
func (x *GeoIndex) Remove(off uint32) {
	pts := x.points.get(off)
	if len(pts) == 0 {
		return
	}
	for _, p := range pts {
		x.list.remove(entry[uint64]{zorder(p), off})
	}
	x.nvalues -= len(pts)
	x.points.del(off)
	x.npoints--
}

// Points implements Index.
func (x *GeoIndex) Points() int { return x.npoints }

// Values implements Index.
func (x *GeoIndex) Values() int { return x.nvalues }

// BoundingBox returns the points with a location strictly inside the box
// (see InBoundingBox).
func (x *GeoIndex) BoundingBox(topLeft, bottomRight GeoPoint) *Postings {
	return x.search(boxRects(topLeft, bottomRight), func(p GeoPoint) bool {
		return InBoundingBox(topLeft, bottomRight, p)
	})
}

// Radius returns the points with a location closer than meters to center
// (see InRadius).
func (x *GeoIndex) Radius(center GeoPoint, meters float64) *Postings {
	return x.search(radiusRects(center, meters), func(p GeoPoint) bool {
		return InRadius(center, meters, p)
	})
}

// Polygon returns the points with a location inside the polygon (see
// InPolygon).
func (x *GeoIndex) Polygon(exterior []GeoPoint, interiors [][]GeoPoint) *Postings {
	return x.search(polygonRects(exterior), func(p GeoPoint) bool {
		return InPolygon(exterior, interiors, p)
	})
}

// search collects the points in the rectangles that have a location
// satisfying match.
func (x *GeoIndex) search(rects []geoRect, match func(GeoPoint) bool) *Postings {
	var offs []uint32
	sorted := true
	for _, r := range rects {
		for _, kr := range coverRect(r) {
			x.list.ascend(x.list.seekFirst(func(z uint64) bool { return z >= kr.lo }), func(e entry[uint64]) bool {
				if e.v > kr.hi {
					return false
				}
				for _, p := range x.points.get(e.off) {
					if match(p) {
						if n := len(offs); n > 0 && offs[n-1] >= e.off {
							sorted = false
						}
						offs = append(offs, e.off)
						break
					}
				}
				return true
			})
		}
	}
	if sorted {
		return FromSorted(offs)
	}
	return fromUnsorted(offs)
}

// Quantisation: 32 bits per axis, interleaved (latitude in the odd bits).

func quantLat(lat float64) uint32 {
	return quant((lat + 90) / 180)
}

func quantLon(lon float64) uint32 {
	return quant((lon + 180) / 360)
}

func quant(f float64) uint32 {
	switch {
	case !(f > 0):
		return 0
	case f >= 1:
		return math.MaxUint32
	}
	return uint32(f * (1 << 32))
}

func zorder(p GeoPoint) uint64 {
	return interleave(quantLat(p.Lat), quantLon(p.Lon))
}

// interleave spreads the bits of a into the odd and b into the even bit
// positions.
func interleave(a, b uint32) uint64 { return spread(a)<<1 | spread(b) }

func spread(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000FFFF0000FFFF
	x = (x | x<<8) & 0x00FF00FF00FF00FF
	x = (x | x<<4) & 0x0F0F0F0F0F0F0F0F
	x = (x | x<<2) & 0x3333333333333333
	x = (x | x<<1) & 0x5555555555555555
	return x
}

// keyRange is an inclusive range of Z-order keys.
type keyRange struct{ lo, hi uint64 }

// maxCells bounds the number of cells a rectangle is covered with.
const maxCells = 64

// coverRect returns key ranges covering the rectangle: the cells of the
// finest level at which it spans at most maxCells cells, adjacent ranges
// merged.
func coverRect(r geoRect) []keyRange {
	if !(r.latLo <= r.latHi && r.lonLo <= r.lonHi) {
		return nil
	}
	aLo, aHi := quantLat(r.latLo), quantLat(r.latHi)
	bLo, bHi := quantLon(r.lonLo), quantLon(r.lonHi)
	level := 32
	for ; level > 0; level-- {
		shift := uint(32 - level)
		na := uint64(aHi>>shift) - uint64(aLo>>shift) + 1
		nb := uint64(bHi>>shift) - uint64(bLo>>shift) + 1
		if na <= maxCells && nb <= maxCells && na*nb <= maxCells {
			break
		}
	}
	shift := uint(32 - level)
	width := uint(2 * (32 - level))
	var out []keyRange
	for i := aLo >> shift; ; i++ {
		for j := bLo >> shift; ; j++ {
			lo := interleave(i, j) << width
			hi := lo | (uint64(1)<<width - 1)
			out = append(out, keyRange{lo, hi})
			if j == bHi>>shift {
				break
			}
		}
		if i == aHi>>shift {
			break
		}
	}
	slices.SortFunc(out, func(a, b keyRange) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
	merged := out[:1]
	for _, kr := range out[1:] {
		last := &merged[len(merged)-1]
		if last.hi != math.MaxUint64 && kr.lo == last.hi+1 {
			last.hi = kr.hi
		} else {
			merged = append(merged, kr)
		}
	}
	return merged
}

// Encode implements Index.
func (x *GeoIndex) Encode(w io.Writer) error {
	e, err := newEncoder(x.schema)
	if err != nil {
		return err
	}
	e.uvarint(uint64(x.npoints))
	ow := offsetWriter{e: e}
	x.points.each(func(off uint32, pts []GeoPoint) {
		ow.put(off)
		e.uvarint(uint64(len(pts)))
		for _, p := range pts {
			e.f64(p.Lon)
			e.f64(p.Lat)
		}
	})
	return writeAll(w, e.finish())
}

func (x *GeoIndex) decodeBody(d *decoder) error {
	n := d.count(2)
	for range n {
		off := d.offset()
		k := d.count(16)
		if d.err != nil {
			return d.err
		}
		if k == 0 {
			d.fail("point without values")
			return d.err
		}
		pts := make([]GeoPoint, 0, min(k, 64))
		for range k {
			p := GeoPoint{Lon: d.f64(), Lat: d.f64()}
			if d.err != nil {
				return d.err
			}
			if !validGeo(p) || slices.Contains(pts, p) {
				d.fail("bad geo point")
				return d.err
			}
			pts = append(pts, p)
		}
		x.set(off, pts)
	}
	return d.err
}
