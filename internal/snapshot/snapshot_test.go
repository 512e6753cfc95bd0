package snapshot

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t testing.TB, files map[string]string, order ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, KindShard, nil)
	for _, name := range order {
		if err := w.AddBytes(name, []byte(files[name])); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(map[string]int{"applied": 7}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	files := map[string]string{"segments.json": `{"v":1}`, "segments/1-1.seg": strings.Repeat("x", 70000), "segments/empty": ""}
	order := []string{"segments.json", "segments/1-1.seg", "segments/empty"}
	var progress []int64
	var buf bytes.Buffer
	w := NewWriter(&buf, KindCollection, func(d int64) { progress = append(progress, d) })
	for _, n := range order {
		if err := w.AddBytes(n, []byte(files[n])); err != nil {
			t.Fatal(err)
		}
	}
	wm, err := w.Close(map[string]string{"name": "c"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{7, 70007, 70007}; !slicesEq(progress, want) {
		t.Fatalf("progress %v, want %v", progress, want)
	}
	dir := t.TempDir()
	m, err := Extract(bytes.NewReader(buf.Bytes()), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if vm, err := Verify(bytes.NewReader(buf.Bytes()), Options{}); err != nil || len(vm.Files) != len(m.Files) {
		t.Fatalf("Verify: %+v, %v", vm, err)
	}
	if m.Kind != KindCollection || m.Format != FormatVersion || !jsonEq(m.Meta, `{"name":"c"}`) || len(m.Files) != 3 || m.Size() != 70007 {
		t.Fatalf("manifest %+v", m)
	}
	if wm.Size() != m.Size() {
		t.Fatalf("writer manifest size %d, read %d", wm.Size(), m.Size())
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || string(got) != want {
			t.Fatalf("%s: %q, %v", name, got, err)
		}
		sum := sha256.Sum256([]byte(want))
		for _, f := range m.Files {
			if f.Name == name && f.SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("%s: digest %s", name, f.SHA256)
			}
		}
	}
}

func jsonEq(a []byte, b string) bool {
	var buf bytes.Buffer
	if err := json.Compact(&buf, a); err != nil {
		return false
	}
	return buf.String() == b
}

func slicesEq(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWriterRefusesBadNames(t *testing.T) {
	for _, name := range []string{"", "/abs", "../x", "a/../../x", "a//b", "./a", "a\\b", ManifestName} {
		w := NewWriter(&bytes.Buffer{}, KindShard, nil)
		if err := w.AddBytes(name, []byte("x")); err == nil {
			t.Errorf("%q accepted", name)
		}
	}
	w := NewWriter(&bytes.Buffer{}, KindShard, nil)
	if err := w.AddBytes("a", nil); err != nil {
		t.Fatal(err)
	}
	if err := w.AddBytes("a", nil); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := w.AddFile("b", 5, strings.NewReader("abc")); err == nil {
		t.Fatal("short reader accepted")
	}
}

// entry is one raw tar entry of a hand-made archive.
type entry struct {
	hdr  tar.Header
	data string
}

func reg(name, data string) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o644}, data: data}
}

func manifestOf(t testing.TB, m Manifest) entry {
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return reg(ManifestName, string(raw))
}

func fileOf(name, data string) File {
	sum := sha256.Sum256([]byte(data))
	return File{Name: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
}

func raw(t testing.TB, es ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := e.hdr
		h.ModTime = time.Unix(0, 0)
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExtractRefusals(t *testing.T) {
	good := Manifest{Format: 1, Kind: KindShard, Files: []File{fileOf("a", "hello")}}
	sound := raw(t, reg("a", "hello"), manifestOf(t, good))
	link := func(typ byte, name, target string) entry {
		return entry{hdr: tar.Header{Typeflag: typ, Name: name, Linkname: target, Mode: 0o644}}
	}
	wrongSum := good
	wrongSum.Files = []File{{Name: "a", Size: 5, SHA256: strings.Repeat("0", 64)}}
	wrongSize := good
	wrongSize.Files = []File{{Name: "a", Size: 4, SHA256: fileOf("a", "hello").SHA256}}
	missing := good
	missing.Files = nil
	extra := good
	extra.Files = append([]File{fileOf("a", "hello")}, fileOf("b", "x"))
	badFormat := good
	badFormat.Format = 2
	badKind := good
	badKind.Kind = "volume"
	for _, tc := range []struct {
		name    string
		archive []byte
		lim     Limits
		want    error
	}{
		{"dot dot", raw(t, reg("../evil", "x")), Limits{}, ErrUnsafePath},
		{"nested dot dot", raw(t, reg("a/../../evil", "x")), Limits{}, ErrUnsafePath},
		{"absolute", raw(t, reg("/etc/evil", "x")), Limits{}, ErrUnsafePath},
		{"backslash", raw(t, reg(`..\evil`, "x")), Limits{}, ErrUnsafePath},
		{"dot part", raw(t, reg("./a", "x")), Limits{}, ErrUnsafePath},
		{"dir dot dot", raw(t, entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "../d/", Mode: 0o755}}), Limits{}, ErrUnsafePath},
		{"symlink", raw(t, link(tar.TypeSymlink, "s", "/etc/passwd")), Limits{}, ErrUnsupportedEntry},
		{"hardlink", raw(t, link(tar.TypeLink, "h", "/etc/passwd")), Limits{}, ErrUnsupportedEntry},
		{"char device", raw(t, link(tar.TypeChar, "c", "")), Limits{}, ErrUnsupportedEntry},
		{"block device", raw(t, link(tar.TypeBlock, "b", "")), Limits{}, ErrUnsupportedEntry},
		{"fifo", raw(t, link(tar.TypeFifo, "f", "")), Limits{}, ErrUnsupportedEntry},
		{"pax sparse", paxSparse(), Limits{}, ErrUnsupportedEntry},
		{"duplicate", raw(t, reg("a", "x"), reg("a", "y")), Limits{}, ErrDuplicate},
		{"too many files", raw(t, reg("a", "x"), reg("b", "y")), Limits{MaxFiles: 1}, ErrTooLarge},
		{"too many bytes", raw(t, reg("a", "xyz"), reg("b", "xyz")), Limits{MaxBytes: 5}, ErrTooLarge},
		{"manifest too large", sound, Limits{MaxManifest: 10}, ErrTooLarge},
		{"no manifest", raw(t, reg("a", "hello")), Limits{}, ErrTruncated},
		{"empty stream", nil, Limits{}, ErrTruncated},
		{"truncated in a file", sound[:512+2], Limits{}, ErrTruncated},
		{"truncated in the manifest", sound[:3*512+10], Limits{}, ErrTruncated},
		{"wrong digest", raw(t, reg("a", "hello"), manifestOf(t, wrongSum)), Limits{}, ErrChecksum},
		{"wrong size", raw(t, reg("a", "hello"), manifestOf(t, wrongSize)), Limits{}, ErrChecksum},
		{"file not in manifest", raw(t, reg("a", "hello"), manifestOf(t, missing)), Limits{}, ErrChecksum},
		{"manifest lists a missing file", raw(t, reg("a", "hello"), manifestOf(t, extra)), Limits{}, ErrChecksum},
		{"entry after manifest", raw(t, reg("a", "hello"), manifestOf(t, good), reg("b", "x")), Limits{}, ErrManifest},
		{"manifest not json", raw(t, reg("a", "hello"), reg(ManifestName, "{")), Limits{}, ErrManifest},
		{"unknown format", raw(t, reg("a", "hello"), manifestOf(t, badFormat)), Limits{}, ErrManifest},
		{"unknown kind", raw(t, reg("a", "hello"), manifestOf(t, badKind)), Limits{}, ErrManifest},
		{"not a tar", bytes.Repeat([]byte("garbage!"), 200), Limits{}, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "target")
			_, err := Extract(bytes.NewReader(tc.archive), dir, Options{Limits: tc.lim})
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			// Nothing escaped the target.
			names, _ := os.ReadDir(parent)
			if len(names) != 1 || names[0].Name() != "target" {
				t.Fatalf("parent holds %v", names)
			}
		})
	}
	if _, err := Extract(bytes.NewReader(sound), t.TempDir(), Options{}); err != nil {
		t.Fatalf("the sound archive of the table: %v", err)
	}
}

// TestCorruptByteRefused flips each byte of a file's data and checks the
// archive is refused.
func TestCorruptByteRefused(t *testing.T) {
	data := write(t, map[string]string{"a": "hello world"}, "a")
	start := bytes.Index(data, []byte("hello world"))
	for _, off := range []int{start, start + 5, start + 10} {
		bad := bytes.Clone(data)
		bad[off] ^= 0x20
		if _, err := Extract(bytes.NewReader(bad), t.TempDir(), Options{}); !errors.Is(err, ErrChecksum) {
			t.Fatalf("byte %d flipped: %v", off, err)
		}
	}
}

func TestChecksumFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.snapshot")
	if err := os.WriteFile(p, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := FileSHA256(p)
	if err != nil {
		t.Fatal(err)
	}
	if sum != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("sum %s", sum)
	}
	if err := WriteChecksum(p, sum); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadChecksum(p); err != nil || got != sum {
		t.Fatalf("read %q, %v", got, err)
	}
}

// block is one 512-byte USTAR header of name, type and size.
func block(name string, typ byte, size int) []byte {
	b := make([]byte, 512)
	copy(b, name)
	copy(b[100:], "0000644\x00")
	copy(b[108:], "0000000\x00")
	copy(b[116:], "0000000\x00")
	copy(b[124:], fmt.Sprintf("%011o\x00", size))
	copy(b[136:], "00000000000\x00")
	b[156] = typ
	copy(b[257:], "ustar\x00")
	copy(b[263:], "00")
	copy(b[148:], "        ")
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

func pad(b []byte) []byte {
	for len(b)%512 != 0 {
		b = append(b, 0)
	}
	return b
}

// paxSparse is an archive whose one entry is a PAX (0.1) sparse file of
// a million logical bytes holding one byte of data, hand-made: Go's
// writer does not write sparse files.
func paxSparse() []byte {
	var recs string
	for _, kv := range []string{"GNU.sparse.size=1000000", "GNU.sparse.numblocks=1", "GNU.sparse.map=0,1"} {
		n := len(kv) + 3
		for len(fmt.Sprintf("%d %s\n", n, kv)) != n {
			n++
		}
		recs += fmt.Sprintf("%d %s\n", n, kv)
	}
	out := block("PaxHeaders/s", 'x', len(recs))
	out = append(out, pad([]byte(recs))...)
	out = append(out, block("s", '0', 1)...)
	out = append(out, pad([]byte("x"))...)
	return append(out, make([]byte, 1024)...)
}
