package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/shoaldb/shoal/internal/vector"
)

// dataset is a base set and a query set of dim-dimensional float32
// vectors stored row-major, already preprocessed for the distance
// (normalised for Cosine), so both engines see the same bytes.
type dataset struct {
	name     string
	dim      int
	base     []float32
	queries  []float32
	distance vector.Distance
	// key names everything derived from these exact vectors (ground
	// truth, raw files for the peer) in the output directory.
	key string
}

func (d *dataset) n() int  { return len(d.base) / d.dim }
func (d *dataset) nq() int { return len(d.queries) / d.dim }

func (d *dataset) baseVec(i int) []float32 {
	return d.base[i*d.dim : (i+1)*d.dim : (i+1)*d.dim]
}

func (d *dataset) query(i int) []float32 {
	return d.queries[i*d.dim : (i+1)*d.dim : (i+1)*d.dim]
}

// flatVecs is the Vectors storage handed to the Shoal graph: one
// contiguous row-major slab, as a sealed segment's vector column is.
type flatVecs struct {
	dim  int
	data []float32
}

// Flat hands the graph the slab itself (hnsw.FlatVectors), as the engine's
// float32 columns do: the walk then slices rows directly and prefetches
// them. (Until 2026-11-26 annbench lacked it, so its Shoal figures came
// from the interface path without prefetching.)
func (f *flatVecs) Flat() []float32 { return f.data }

func (f *flatVecs) Vector(off uint32) []float32 {
	i := int(off) * f.dim
	return f.data[i : i+f.dim : i+f.dim]
}

// idx is a decoded IDX file (the MNIST container format): a magic word
// 0x0000, a type byte (0x08: unsigned byte, the only type we accept), a
// rank byte, rank big-endian uint32 sizes, then the row-major data.
type idx struct {
	dims []int
	data []byte
}

var errIDX = errors.New("idx: malformed file")

// parseIDX reads an IDX stream; gzip compression is detected by its magic.
func parseIDX(r io.Reader) (*idx, error) {
	br := bufio.NewReader(r)
	if head, err := br.Peek(2); err == nil && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("idx: gzip: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: header: %w", errIDX, err)
	}
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, fmt.Errorf("%w: bad magic %x", errIDX, hdr[:2])
	}
	if hdr[2] != 0x08 {
		return nil, fmt.Errorf("%w: element type 0x%02x, want 0x08 (unsigned byte)", errIDX, hdr[2])
	}
	rank := int(hdr[3])
	if rank < 1 || rank > 4 {
		return nil, fmt.Errorf("%w: rank %d", errIDX, rank)
	}
	out := &idx{dims: make([]int, rank)}
	total := 1
	for i := range rank {
		var b [4]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return nil, fmt.Errorf("%w: dimension %d: %w", errIDX, i, err)
		}
		out.dims[i] = int(binary.BigEndian.Uint32(b[:]))
		total *= out.dims[i]
		if total > 1<<32 {
			return nil, fmt.Errorf("%w: %v elements is too many", errIDX, out.dims)
		}
	}
	out.data = make([]byte, total)
	if _, err := io.ReadFull(br, out.data); err != nil {
		return nil, fmt.Errorf("%w: data (%v): %w", errIDX, out.dims, err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing bytes after %v elements", errIDX, out.dims)
	}
	return out, nil
}

// rows returns the file as float32 rows: the first dimension counts rows,
// the others are flattened into one row (28x28 images become 784-d).
func (x *idx) rows() (n, dim int, v []float32) {
	n = x.dims[0]
	dim = 1
	for _, d := range x.dims[1:] {
		dim *= d
	}
	v = make([]float32, len(x.data))
	for i, b := range x.data {
		v[i] = float32(b)
	}
	return n, dim, v
}

func readIDXFile(path string) (*idx, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	x, err := parseIDX(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return x, nil
}

// fashionDirs are where Debian's dataset-fashion-mnist installs the files.
var fashionDirs = []string{"/usr/share/datasets/fashion-mnist"}

// loadFashion reads the 60k training images as the base and the 10k test
// images as queries (the ann-benchmarks split), raw pixel values 0..255,
// Euclid by default as ann-benchmarks' fashion-mnist-784-euclidean.
func loadFashion(dir string, nq int, d vector.Distance) (*dataset, error) {
	if dir == "" {
		for _, c := range fashionDirs {
			if _, err := os.Stat(filepath.Join(c, "train-images-idx3-ubyte.gz")); err == nil {
				dir = c
				break
			}
		}
		if dir == "" {
			return nil, fmt.Errorf("fashion-mnist not found in %v (apt-get install dataset-fashion-mnist, or pass -data-dir)", fashionDirs)
		}
	}
	train, err := readIDXFile(filepath.Join(dir, "train-images-idx3-ubyte.gz"))
	if err != nil {
		return nil, err
	}
	test, err := readIDXFile(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"))
	if err != nil {
		return nil, err
	}
	_, dim, base := train.rows()
	tn, tdim, qs := test.rows()
	if tdim != dim {
		return nil, fmt.Errorf("fashion-mnist: train is %d-d, test %d-d", dim, tdim)
	}
	if nq > 0 && nq < tn {
		qs = qs[:nq*dim]
	}
	ds := &dataset{name: "fashion-mnist", dim: dim, base: base, queries: qs, distance: d}
	prep(ds)
	ds.key = fmt.Sprintf("fashion-mnist-%d-%d-%d-%s", ds.n(), dim, ds.nq(), d)
	return ds, nil
}

// synthParams describes a seeded Gaussian mixture.
type synthParams struct {
	n, nq, dim, clusters int
	spread               float64 // per-coordinate sigma around a centre, centres ~ N(0, 1)
	seed                 uint64
	distance             vector.Distance
}

// synthetic draws n base points and nq queries from one mixture of
// `clusters` Gaussian centres (per-coordinate N(0,1)) with isotropic
// noise of sigma `spread`; queries use another PCG stream of the same law.
func synthetic(p synthParams) *dataset {
	r := rand.New(rand.NewPCG(p.seed, 0x5eed))
	centres := make([]float32, p.clusters*p.dim)
	for i := range centres {
		centres[i] = float32(r.NormFloat64())
	}
	draw := func(stream uint64, n int) []float32 {
		r := rand.New(rand.NewPCG(p.seed, stream))
		out := make([]float32, n*p.dim)
		for i := range n {
			c := centres[r.IntN(p.clusters)*p.dim:][:p.dim]
			v := out[i*p.dim : (i+1)*p.dim]
			for j := range v {
				v[j] = c[j] + float32(p.spread*r.NormFloat64())
			}
		}
		return out
	}
	ds := &dataset{name: "synthetic", dim: p.dim, base: draw(1, p.n), queries: draw(2, p.nq), distance: p.distance}
	prep(ds)
	ds.key = fmt.Sprintf("synthetic-%d-%d-%d-c%d-s%g-seed%d-%s", p.n, p.dim, p.nq, p.clusters, p.spread, p.seed, p.distance)
	return ds
}

// prep applies the distance's preprocessing (normalisation for Cosine) to
// every vector, as Shoal does on write; the peer gets the same bytes.
func prep(ds *dataset) {
	if ds.distance != vector.Cosine {
		return
	}
	for _, s := range [][]float32{ds.base, ds.queries} {
		for i := 0; i+ds.dim <= len(s); i += ds.dim {
			vector.Normalize(s[i : i+ds.dim])
		}
	}
}
