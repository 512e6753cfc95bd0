package snapshot

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Limits bound what Extract accepts; zero fields take the defaults.
type Limits struct {
	MaxFiles    int   // entries besides the manifest (default 1<<20)
	MaxBytes    int64 // total bytes of the files (default 1 TiB)
	MaxManifest int64 // bytes of the manifest (default 64 MiB)
}

func (l Limits) withDefaults() Limits {
	if l.MaxFiles <= 0 {
		l.MaxFiles = 1 << 20
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 1 << 40
	}
	if l.MaxManifest <= 0 {
		l.MaxManifest = 64 << 20
	}
	return l
}

// Options of Extract.
type Options struct {
	Limits Limits
	// Progress, when not nil, is called with the bytes of file data
	// extracted so far after each file.
	Progress func(done int64)
}

// Extract reads an archive from r into dir (created if missing), checking
// every name, size and digest against the manifest, and returns the
// manifest. Refusals match ErrInvalid (see the package doc); I/O errors of
// dir do not.
func Extract(r io.Reader, dir string, opts Options) (*Manifest, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("snapshot: create %s: %w", dir, err)
	}
	return read(r, opts, func(name string) (io.WriteCloser, error) { return createFile(dir, name) })
}

// Verify reads an archive from r with every check of Extract, writing
// nothing, and returns its manifest.
func Verify(r io.Reader, opts Options) (*Manifest, error) {
	return read(r, opts, func(string) (io.WriteCloser, error) { return discard{}, nil })
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) Close() error                { return nil }

// read is Extract and Verify: create opens the destination of each file.
func read(r io.Reader, opts Options, create func(name string) (io.WriteCloser, error)) (*Manifest, error) {
	lim := opts.Limits.withDefaults()
	tr := tar.NewReader(r)
	var got []File
	seen := map[string]bool{}
	var total int64
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("snapshot: the archive ends without its manifest: %w", ErrTruncated)
		}
		if err != nil {
			return nil, readErr("read entry header", err)
		}
		name := strings.TrimSuffix(hdr.Name, "/")
		if hdr.Typeflag == tar.TypeDir {
			if err := checkName(name); err != nil {
				return nil, err
			}
			continue
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA {
			return nil, fmt.Errorf("snapshot: entry %q of type %q: %w", hdr.Name, hdr.Typeflag, ErrUnsupportedEntry)
		}
		if sparse(hdr) {
			// A sparse entry expands a few bytes into its whole size of
			// zeros on disk: the writer never makes one.
			return nil, fmt.Errorf("snapshot: entry %q is a sparse file: %w", hdr.Name, ErrUnsupportedEntry)
		}
		if err := checkName(hdr.Name); err != nil {
			return nil, err
		}
		if seen[hdr.Name] {
			return nil, fmt.Errorf("snapshot: entry %q: %w", hdr.Name, ErrDuplicate)
		}
		seen[hdr.Name] = true
		if hdr.Size < 0 {
			return nil, fmt.Errorf("snapshot: entry %q has size %d: %w", hdr.Name, hdr.Size, ErrManifest)
		}
		if hdr.Name == ManifestName {
			m, err := readManifest(tr, hdr.Size, lim)
			if err != nil {
				return nil, err
			}
			if err := m.check(got); err != nil {
				return nil, err
			}
			if _, err := tr.Next(); err != io.EOF {
				if err != nil {
					return nil, readErr("read after the manifest", err)
				}
				return nil, fmt.Errorf("snapshot: entries after the manifest: %w", ErrManifest)
			}
			return m, nil
		}
		if len(got) >= lim.MaxFiles {
			return nil, fmt.Errorf("snapshot: more than %d files: %w", lim.MaxFiles, ErrTooLarge)
		}
		if hdr.Size > lim.MaxBytes-total {
			return nil, fmt.Errorf("snapshot: more than %d bytes of files: %w", lim.MaxBytes, ErrTooLarge)
		}
		sum, err := extractFile(tr, create, hdr.Name, hdr.Size)
		if err != nil {
			return nil, err
		}
		total += hdr.Size
		got = append(got, File{Name: hdr.Name, Size: hdr.Size, SHA256: sum})
		if opts.Progress != nil {
			opts.Progress(total)
		}
	}
}

// sparse reports whether hdr describes a PAX sparse file (archive/tar
// reports those as regular files).
func sparse(hdr *tar.Header) bool {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// readErr marks a tar failure: an early end is truncation, anything else a
// malformed archive.
func readErr(what string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("snapshot: %s: %w (%w)", what, ErrTruncated, err)
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("snapshot: %s: %w", what, err)
	}
	return fmt.Errorf("snapshot: %s: %w (%w)", what, ErrManifest, err)
}

// createFile creates the file name under dir, and its directories.
func createFile(dir, name string) (io.WriteCloser, error) {
	dst := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	// O_EXCL: a file already there (put by something else) is not
	// followed or overwritten.
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	return f, nil
}

func extractFile(tr *tar.Reader, create func(string) (io.WriteCloser, error), name string, size int64) (string, error) {
	f, err := create(name)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), tr)
	if cerr := f.Close(); err == nil && cerr != nil {
		return "", fmt.Errorf("snapshot: %w", cerr)
	}
	if err != nil {
		return "", readErr(fmt.Sprintf("read %q", name), err)
	}
	if n != size {
		return "", fmt.Errorf("snapshot: %q holds %d of %d bytes: %w", name, n, size, ErrTruncated)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func readManifest(tr *tar.Reader, size int64, lim Limits) (*Manifest, error) {
	if size > lim.MaxManifest {
		return nil, fmt.Errorf("snapshot: manifest of %d bytes (at most %d): %w", size, lim.MaxManifest, ErrTooLarge)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, tr)
	if err != nil {
		return nil, readErr("read manifest", err)
	}
	if n != size {
		return nil, fmt.Errorf("snapshot: manifest holds %d of %d bytes: %w", n, size, ErrTruncated)
	}
	var m Manifest
	dec := json.NewDecoder(&buf)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("snapshot: decode manifest: %w (%w)", ErrManifest, err)
	}
	if m.Format != FormatVersion {
		return nil, fmt.Errorf("snapshot: format version %d (this version reads %d): %w", m.Format, FormatVersion, ErrManifest)
	}
	switch m.Kind {
	case KindShard, KindCollection, KindStorage:
	default:
		return nil, fmt.Errorf("snapshot: unknown kind %q: %w", m.Kind, ErrManifest)
	}
	return &m, nil
}

// check compares the manifest with the files read.
func (m *Manifest) check(got []File) error {
	if len(m.Files) != len(got) {
		return fmt.Errorf("snapshot: the manifest lists %d files, the archive holds %d: %w", len(m.Files), len(got), ErrChecksum)
	}
	for i, f := range m.Files {
		g := got[i]
		switch {
		case f.Name != g.Name:
			return fmt.Errorf("snapshot: file %d is %q, the manifest says %q: %w", i, g.Name, f.Name, ErrChecksum)
		case f.Size != g.Size:
			return fmt.Errorf("snapshot: %q holds %d bytes, the manifest says %d: %w", f.Name, g.Size, f.Size, ErrChecksum)
		case !strings.EqualFold(f.SHA256, g.SHA256):
			return fmt.Errorf("snapshot: %q has sha256 %s, the manifest says %s: %w", f.Name, g.SHA256, f.SHA256, ErrChecksum)
		}
	}
	return nil
}

// checkName accepts clean relative slash-separated names only.
func checkName(name string) error {
	bad := name == "" || len(name) > 255 || strings.ContainsAny(name, "\\\x00") ||
		strings.HasPrefix(name, "/") || path.Clean(name) != name || name == "." ||
		filepath.IsAbs(name) || filepath.VolumeName(name) != ""
	if !bad {
		for _, part := range strings.Split(name, "/") {
			if part == ".." || part == "." || part == "" {
				bad = true
			}
		}
	}
	if bad {
		return fmt.Errorf("snapshot: entry name %q: %w", name, ErrUnsafePath)
	}
	return nil
}
