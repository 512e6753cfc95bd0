package ops

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// vectorNameOps has one operation of each named vector kind and shape.
func vectorNameOps() []*Operation {
	return []*Operation{
		{Kind: CreateVectorName, Key: "text", VectorConfig: &VectorNameConfig{Dense: &DenseVectorConfig{Size: 768, Distance: "Cosine"}}},
		{Kind: CreateVectorName, Key: "img", VectorConfig: &VectorNameConfig{Dense: &DenseVectorConfig{Size: 65536, Distance: "Manhattan", Datatype: "uint8", Multivector: "max_sim"}}},
		{Kind: CreateVectorName, Key: "", VectorConfig: &VectorNameConfig{Sparse: &SparseVectorConfig{}}},
		{Kind: CreateVectorName, Key: "bm25", VectorConfig: &VectorNameConfig{Sparse: &SparseVectorConfig{Modifier: "idf", Datatype: "float16"}}},
		{Kind: DeleteVectorName, Key: "text"},
		{Kind: DeleteVectorName, Key: ""},
	}
}

// TestVectorNameRoundTrip: each named vector operation decodes back to an
// equal operation, whose encoding is the same bytes, and every strict
// prefix and a trailing byte are refused.
func TestVectorNameRoundTrip(t *testing.T) {
	for i, op := range vectorNameOps() {
		b, err := op.Encode()
		if err != nil {
			t.Fatalf("%d: encode: %v", i, err)
		}
		got, err := DecodeOperation(b)
		if err != nil {
			t.Fatalf("%d: decode: %v", i, err)
		}
		if !reflect.DeepEqual(got, op) {
			t.Fatalf("%d: round trip:\n got %#v\nwant %#v", i, got, op)
		}
		again, err := got.Encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("%d: not stable (%v)", i, err)
		}
		for n := range len(b) {
			if _, err := DecodeOperation(b[:n]); !errors.Is(err, ErrMalformed) {
				t.Fatalf("%d cut at %d: %v", i, n, err)
			}
		}
		if _, err := DecodeOperation(append(b[:len(b):len(b)], 0)); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%d with a trailing byte: %v", i, err)
		}
	}
}

// TestVectorNameGolden holds the bytes of the named vector kinds
// (testdata/vector_name.golden; -update rewrites it). They came with
// version 2 without a version change; the bytes that version wrote
// (vector_name_v2.golden) must still decode to the same operations.
func TestVectorNameGolden(t *testing.T) {
	var out strings.Builder
	for _, op := range vectorNameOps() {
		b, err := op.Encode()
		if err != nil {
			t.Fatal(err)
		}
		out.WriteString(string(op.Kind) + " " + hex.EncodeToString(b) + "\n")
	}
	path := filepath.Join("testdata", "vector_name.golden")
	if *update {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Fatalf("encoding changed:\n got %s\nwant %s", out.String(), want)
	}
	v2, err := os.ReadFile(filepath.Join("testdata", "vector_name_v2.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSpace(string(v2)), "\n") {
		_, h, _ := strings.Cut(line, " ")
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeOperation(b)
		if err != nil {
			t.Fatalf("version 2 record %d: %v", i, err)
		}
		if want := vectorNameOps()[i]; !reflect.DeepEqual(got, want) {
			t.Fatalf("version 2 record %d decodes to %+v, want %+v", i, got, want)
		}
	}
}

func TestVectorNameInvalid(t *testing.T) {
	dense := func(d DenseVectorConfig) *VectorNameConfig { return &VectorNameConfig{Dense: &d} }
	cases := []struct {
		name string
		op   Operation
		msg  string
	}{
		{"no config", Operation{Kind: CreateVectorName, Key: "a"}, "without a vector config"},
		{"config on a delete", Operation{Kind: DeleteVectorName, Key: "a", VectorConfig: dense(DenseVectorConfig{Size: 1, Distance: "Dot"})}, "with a vector config"},
		{"config on an upsert", Operation{Kind: Upsert, VectorConfig: dense(DenseVectorConfig{Size: 1, Distance: "Dot"})}, "with a vector config"},
		{"neither", Operation{Kind: CreateVectorName, Key: "a", VectorConfig: &VectorNameConfig{}}, "neither dense nor sparse"},
		{"both", Operation{Kind: CreateVectorName, Key: "a", VectorConfig: &VectorNameConfig{Dense: &DenseVectorConfig{Size: 1, Distance: "Dot"}, Sparse: &SparseVectorConfig{}}}, "both dense and sparse"},
		{"size 0", Operation{Kind: CreateVectorName, Key: "a", VectorConfig: dense(DenseVectorConfig{Distance: "Dot"})}, "size 0 out of range"},
		{"size too large", Operation{Kind: CreateVectorName, Key: "a", VectorConfig: dense(DenseVectorConfig{Size: 65537, Distance: "Dot"})}, "size 65537 out of range"},
		{"distance", Operation{Kind: CreateVectorName, Key: "a", VectorConfig: dense(DenseVectorConfig{Size: 2, Distance: "dot"})}, "unknown distance"},
		{"datatype", Operation{Kind: CreateVectorName, Key: "a", VectorConfig: dense(DenseVectorConfig{Size: 2, Distance: "Dot", Datatype: "int4"})}, "unknown dense datatype"},
		{"comparator", Operation{Kind: CreateVectorName, Key: "a", VectorConfig: dense(DenseVectorConfig{Size: 2, Distance: "Dot", Multivector: "min_sim"})}, "comparator"},
		{"modifier", Operation{Kind: CreateVectorName, Key: "a", VectorConfig: &VectorNameConfig{Sparse: &SparseVectorConfig{Modifier: "tf"}}}, "unknown modifier"},
		{"sparse datatype", Operation{Kind: CreateVectorName, Key: "a", VectorConfig: &VectorNameConfig{Sparse: &SparseVectorConfig{Datatype: "turbo4"}}}, "unknown sparse datatype"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.op.Encode()
			if err == nil {
				t.Fatalf("encoded as %x", b)
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %q: want ErrInvalid saying %q", err, c.msg)
			}
		})
	}
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	create := func(cfg string) []byte { return bytes.Join([][]byte{{EncodingVersion, 11}, str("a"), str(cfg)}, nil) }
	for _, c := range []struct {
		name string
		in   []byte
		msg  string
	}{
		{"config not JSON", create(`{`), "vector config"},
		{"config with an unknown key", create(`{"dense":{"size":2,"distance":"Dot","on_disk":true}}`), "unknown field"},
		{"config null", create(`null`), "neither dense nor sparse"},
		{"config of two values", create(`{}{}`), "trailing data"},
		{"config out of range", create(`{"dense":{"size":0,"distance":"Dot"}}`), "out of range"},
		{"named vector kinds in version 1", []byte{1, 12, 1, 'a'}, "unknown kind 12"},
	} {
		t.Run(c.name, func(t *testing.T) {
			op, err := DecodeOperation(c.in)
			if err == nil {
				t.Fatalf("decoded %x as %+v", c.in, op)
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %q: want ErrMalformed saying %q", err, c.msg)
			}
		})
	}
}
