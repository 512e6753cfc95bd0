package openapitest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// QdrantVersion is the Qdrant release whose REST contract Shoal speaks and
// whose openapi.json is downloaded when there is no local copy.
const QdrantVersion = "v1.19.0"

// specSHA256 pins the document: the sha256 of openapi.json as Qdrant
// released it with QdrantVersion (info.version says "master" in it, as in
// every copy under docs/redoc/master). A download with any other bytes is
// never used to validate.
const specSHA256 = "ae5cf980e40fc12ce7ce48f500a7c9cc19a7d8fcf0cfa1e2c7c7b27faecd8ffa"

// EnvSpecURL overrides where the document is downloaded from (a mirror, or a
// test's server). What it serves must still have the pinned sha256.
const EnvSpecURL = "SHOAL_OPENAPI_URL"

// defaultSpecURL is the document in Qdrant's repository at the release tag.
// Qdrant generates docs/redoc/master/openapi.json with every API change and
// later archives it for the docs site as docs/redoc/v1.19.x/openapi.json,
// whose info.version ("v1.19.x") makes its bytes differ; the file at the tag
// is the released one.
var defaultSpecURL = "https://raw.githubusercontent.com/qdrant/qdrant/" + QdrantVersion + "/docs/redoc/master/openapi.json"

const (
	// fetchTimeout bounds the whole download, body included, so a machine
	// whose network drops packets costs each test process seconds, not
	// minutes. The lookup happens once per process.
	fetchTimeout = 5 * time.Second
	// maxSpecBytes caps what is read: the pinned file is about 0.5 MiB.
	maxSpecBytes = 4 << 20
)

// ErrChecksum marks a document whose sha256 is not the pinned one.
var ErrChecksum = errors.New("sha256 mismatch")

// fetcher downloads the pinned document and keeps a verified copy.
type fetcher struct {
	url      string
	sum      string // hex sha256 the document must have
	cacheDir string // where a verified copy is kept; "" keeps none
	maxBytes int64
	client   *http.Client
}

// defaultFetcher downloads from $SHOAL_OPENAPI_URL or Qdrant's repository
// and caches under the user's cache directory (~/.cache/shoal on Linux),
// shared by every clone.
func defaultFetcher() fetcher {
	u := os.Getenv(EnvSpecURL)
	if u == "" {
		u = defaultSpecURL
	}
	var dir string
	if d, err := os.UserCacheDir(); err == nil {
		dir = filepath.Join(d, "shoal")
	}
	return fetcher{
		url:      u,
		sum:      specSHA256,
		cacheDir: dir,
		maxBytes: maxSpecBytes,
		client:   &http.Client{Timeout: fetchTimeout},
	}
}

// cachePath names the cached copy after the pin, so a new pin never reads
// an old copy (which would fail the check anyway).
func (f fetcher) cachePath() string {
	if f.cacheDir == "" {
		return ""
	}
	return filepath.Join(f.cacheDir, "qdrant-"+QdrantVersion+"-openapi-"+f.sum[:12]+".json")
}

// get returns the verified document and a description of where it came
// from: the cache when it holds a copy with the pinned sha256, else a
// download, which is cached once verified. A damaged cached copy is
// downloaded again and replaced.
func (f fetcher) get(ctx context.Context) (data []byte, source string, err error) {
	cache := f.cachePath()
	if cache != "" {
		if data, err := os.ReadFile(cache); err == nil && f.verify(data) == nil {
			return data, cache + " (cached download, sha256 verified)", nil
		}
	}
	data, err = f.download(ctx)
	if err != nil {
		return nil, "", err
	}
	source = f.url + " (sha256 verified)"
	if cache != "" {
		if err := writeFileAtomic(cache, data); err != nil {
			// The document is good; only the next process pays for this.
			return data, source + "; not cached: " + err.Error(), nil
		}
		source += ", cached at " + cache
	}
	return data, source, nil
}

// download fetches the document and checks its size and sha256.
func (f fetcher) download(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", f.url, err)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		// A *url.Error repeats the method and URL this message already has.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("download %s: %w", f.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download %s: %s", f.url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", f.url, err)
	}
	if int64(len(data)) > f.maxBytes {
		return nil, fmt.Errorf("download %s: larger than %d bytes", f.url, f.maxBytes)
	}
	if err := f.verify(data); err != nil {
		return nil, fmt.Errorf("download %s: %w", f.url, err)
	}
	return data, nil
}

func (f fetcher) verify(data []byte) error {
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != f.sum {
		return fmt.Errorf("%w: got %s, want %s (pinned for Qdrant %s in internal/openapitest); refused",
			ErrChecksum, got, f.sum, QdrantVersion)
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so concurrent test processes never read a torn
// copy. The directory is not synced: a rename lost in a crash costs one
// download, and a torn file fails the sha256 check and is replaced.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cache openapi.json: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".openapi-*.tmp")
	if err != nil {
		return fmt.Errorf("cache openapi.json: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("cache openapi.json: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("cache openapi.json: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cache openapi.json: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cache openapi.json: %w", err)
	}
	return nil
}
