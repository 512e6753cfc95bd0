package snapshot

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// FormatVersion is the archive layout this package writes and reads.
const FormatVersion = 1

// ManifestName is the name of the archive's last entry.
const ManifestName = "shoal-snapshot.json"

// Kinds of archive.
const (
	KindShard      = "shard"
	KindCollection = "collection"
	KindStorage    = "storage"
)

// Manifest describes an archive; it is its last entry.
type Manifest struct {
	Format  int             `json:"format"`
	Kind    string          `json:"kind"`
	Created time.Time       `json:"created"`
	Meta    json.RawMessage `json:"meta,omitempty"`
	Files   []File          `json:"files"`
}

// File is one entry of the archive.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Size is the bytes of the files the manifest lists.
func (m *Manifest) Size() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}

// Writer streams an archive: AddFile for each file, then Close with the
// kind's description. It is not safe for concurrent use.
type Writer struct {
	tw       *tar.Writer
	kind     string
	now      time.Time
	files    []File
	seen     map[string]bool
	done     int64
	progress func(done int64)
	closed   bool
}

// NewWriter starts an archive of kind on w. progress, when not nil, is
// called with the bytes of file data written so far after each file.
func NewWriter(w io.Writer, kind string, progress func(done int64)) *Writer {
	return &Writer{tw: tar.NewWriter(w), kind: kind, now: time.Now().UTC(), seen: map[string]bool{}, progress: progress}
}

// AddFile copies exactly size bytes of r as the file name.
func (w *Writer) AddFile(name string, size int64, r io.Reader) error {
	if w.closed {
		return fmt.Errorf("snapshot: add %q: writer closed", name)
	}
	if err := checkName(name); err != nil {
		return err
	}
	if name == ManifestName || w.seen[name] {
		return fmt.Errorf("snapshot: add %q: %w", name, ErrDuplicate)
	}
	if size < 0 {
		return fmt.Errorf("snapshot: add %q: negative size %d", name, size)
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: w.now, Format: tar.FormatPAX}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("snapshot: write header of %q: %w", name, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w.tw, h), io.LimitReader(r, size))
	if err != nil {
		return fmt.Errorf("snapshot: copy %q: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("snapshot: copy %q: read %d of %d bytes", name, n, size)
	}
	w.seen[name] = true
	w.files = append(w.files, File{Name: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))})
	w.done += size
	if w.progress != nil {
		w.progress(w.done)
	}
	return nil
}

// AddBytes adds b as the file name.
func (w *Writer) AddBytes(name string, b []byte) error {
	return w.AddFile(name, int64(len(b)), bytes.NewReader(b))
}

// AddPath adds the file at path (on the operating system's file system)
// as name.
func (w *Writer) AddPath(name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return w.AddFile(name, st.Size(), f)
}

// Close writes the manifest with meta (JSON-encoded; nil for none) and
// ends the archive. It does not close the underlying writer.
func (w *Writer) Close(meta any) (*Manifest, error) {
	if w.closed {
		return nil, fmt.Errorf("snapshot: writer closed twice")
	}
	w.closed = true
	m := &Manifest{Format: FormatVersion, Kind: w.kind, Created: w.now, Files: w.files}
	if m.Files == nil {
		m.Files = []File{}
	}
	if meta != nil {
		raw, err := json.Marshal(meta)
		if err != nil {
			return nil, fmt.Errorf("snapshot: encode meta: %w", err)
		}
		m.Meta = raw
	}
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, fmt.Errorf("snapshot: encode manifest: %w", err)
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: ManifestName, Size: int64(len(data)), Mode: 0o644, ModTime: w.now, Format: tar.FormatPAX}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return nil, fmt.Errorf("snapshot: write manifest: %w", err)
	}
	if _, err := w.tw.Write(data); err != nil {
		return nil, fmt.Errorf("snapshot: write manifest: %w", err)
	}
	if err := w.tw.Close(); err != nil {
		return nil, fmt.Errorf("snapshot: end archive: %w", err)
	}
	return m, nil
}
