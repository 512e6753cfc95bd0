package node

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

func testOptions(dir string) Options {
	indexing := uint64(10000)
	return Options{
		StoragePath: dir,
		Defaults: collection.Defaults{
			Hnsw:       collection.HnswConfig{M: 16, EfConstruct: 100, FullScanThreshold: 10000},
			Optimizers: collection.OptimizersConfig{DeletedThreshold: 0.2, VacuumMinVectorNumber: 1000, IndexingThreshold: &indexing, FlushIntervalSec: 5},
			Wal:        collection.WalConfig{WalCapacityMB: 32, WalRetainClosed: 1},
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// openNode opens a node that is closed when the test ends (Close is
// idempotent, so tests may close it earlier).
func openNode(t *testing.T, dir string) *Node {
	t.Helper()
	n, err := Open(testOptions(dir))
	if err != nil {
		t.Fatalf("open node: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func createReq(t *testing.T, body string) *collection.CreateRequest {
	t.Helper()
	var req collection.CreateRequest
	if err := point.DecodeJSON([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	return &req
}

const vec4 = `{"vectors":{"size":4,"distance":"Dot"}}`

func collectionsDir(root string) string { return filepath.Join(root, "collections") }

func TestValidateCollectionName(t *testing.T) {
	cases := []struct {
		name string
		want string // "" means valid
	}{
		{"a", ""},
		{"my-collection_2.0", ""},
		{"名前", ""},
		{"with space", ""},
		{"a.", ""},
		{strings.Repeat("x", 255), ""},
		{"", "name: length must be between 1 and 255"},
		{strings.Repeat("x", 256), "name: length must be between 1 and 255"},
		{".", `name: collection name cannot start with "."`},
		{"..", `name: collection name cannot start with "."`},
		{".hidden", `name: collection name cannot start with "."`},
		{".creating-x", `name: collection name cannot start with "."`},
		{"a/b", `name: collection name cannot contain "/" char`},
		{"../escape", `name: collection name cannot start with "."`},
		{`a\b`, `name: collection name cannot contain "\\" char`},
		{"a:b", `name: collection name cannot contain ":" char`},
		{"a<b", `name: collection name cannot contain "<" char`},
		{"a>b", `name: collection name cannot contain ">" char`},
		{`a"b`, `name: collection name cannot contain "\"" char`},
		{"a|b", `name: collection name cannot contain "|" char`},
		{"a?b", `name: collection name cannot contain "?" char`},
		{"a*b", `name: collection name cannot contain "*" char`},
		{"a\x00b", `name: collection name cannot contain "\x00" char`},
		{"a\x1fb", `name: collection name cannot contain "\x1f" char`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := ValidateCollectionName(c.name)
			if c.want == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			var ve *collection.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v (%T), want a ValidationError", err, err)
			}
			if err.Error() != c.want {
				t.Fatalf("err = %q, want %q", err, c.want)
			}
		})
	}
}

func TestCreateListDeleteReopen(t *testing.T) {
	root := t.TempDir()
	n := openNode(t, root)
	if got := n.Collections(); len(got) != 0 {
		t.Fatalf("new node lists %v", got)
	}
	for _, name := range []string{"zeta", "alpha", "mid"} {
		if err := n.CreateCollection(context.Background(), name, createReq(t, vec4)); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	if got, want := n.Collections(), []string{"alpha", "mid", "zeta"}; !slices.Equal(got, want) {
		t.Fatalf("Collections = %v, want %v", got, want)
	}

	err := n.CreateCollection(context.Background(), "mid", createReq(t, vec4))
	if point.KindOf(err) != point.KindAlreadyExists || point.DescriptionOf(err) != "Collection `mid` already exists!" {
		t.Fatalf("duplicate create: %v", err)
	}
	var ve *collection.ValidationError
	if err := n.CreateCollection(context.Background(), "mid", createReq(t, `{"vectors":{"size":0,"distance":"Dot"}}`)); !errors.As(err, &ve) {
		t.Fatalf("invalid create request: %v", err)
	}
	if err := n.CreateCollection(context.Background(), "bad/name", createReq(t, vec4)); !errors.As(err, &ve) {
		t.Fatalf("invalid name: %v", err)
	}
	if err := n.CreateCollection(context.Background(), "new", createReq(t, `{"vectors":{"size":0,"distance":"Dot"}}`)); err == nil || slices.Contains(n.Collections(), "new") {
		t.Fatalf("invalid request created a collection: %v", err)
	}
	if _, err := os.Stat(filepath.Join(collectionsDir(root), "new")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("invalid request left a directory: %v", err)
	}

	// Data written before the restart survives it.
	c, err := n.Collection("alpha")
	if err != nil {
		t.Fatal(err)
	}
	op := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(1), Vectors: point.Vectors{"": {1, 2, 3, 4}}}}}
	if _, err := c.Update(context.Background(), op, true); err != nil {
		t.Fatal(err)
	}

	existed, err := n.DeleteCollection(context.Background(), "zeta")
	if err != nil || !existed {
		t.Fatalf("delete zeta: %v %v", existed, err)
	}
	if existed, err := n.DeleteCollection(context.Background(), "zeta"); err != nil || existed {
		t.Fatalf("second delete: %v %v", existed, err)
	}
	if _, err := n.Collection("zeta"); point.KindOf(err) != point.KindNotFound || point.DescriptionOf(err) != "Collection `zeta` doesn't exist!" {
		t.Fatalf("deleted collection: %v", err)
	}
	entries, _ := os.ReadDir(collectionsDir(root))
	for _, e := range entries {
		if e.Name() == "zeta" || strings.HasPrefix(e.Name(), ".") {
			t.Fatalf("delete left %s behind", e.Name())
		}
	}
	// The name is free again.
	if err := n.CreateCollection(context.Background(), "zeta", createReq(t, `{"vectors":{"v":{"size":2,"distance":"Euclid"}}}`)); err != nil {
		t.Fatalf("recreate: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.CreateCollection(context.Background(), "late", createReq(t, vec4)); err == nil {
		t.Fatal("created a collection on a closed node")
	}

	n2 := openNode(t, root)
	if got, want := n2.Collections(), []string{"alpha", "mid", "zeta"}; !slices.Equal(got, want) {
		t.Fatalf("after reopen Collections = %v, want %v", got, want)
	}
	c, err = n2.Collection("alpha")
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 1 {
		t.Fatalf("alpha lost its point")
	}
	z, _ := n2.Collection("zeta")
	if z.Len() != 0 || !z.MultiVector() {
		t.Fatalf("recreated zeta: %d points, multi %v", z.Len(), z.MultiVector())
	}
}

func TestOpenRemovesLeftovers(t *testing.T) {
	root := t.TempDir()
	n := openNode(t, root)
	if err := n.CreateCollection(context.Background(), "keep", createReq(t, vec4)); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	dir := collectionsDir(root)
	// An interrupted create, an interrupted delete (holding a whole
	// collection) and a stray file.
	for _, p := range []string{".creating-x", ".deleting-y/shards/0", ".creating-keep"} {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".creating-x", configFile), []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("not a collection"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A config rewrite interrupted before its rename leaves a .tmp beside
	// the intact config, which must win.
	if err := os.WriteFile(filepath.Join(dir, "keep", configFile+".tmp"), []byte(`{"params":`), 0o644); err != nil {
		t.Fatal(err)
	}

	n = openNode(t, root)
	if got := n.Collections(); !slices.Equal(got, []string{"keep"}) {
		t.Fatalf("Collections = %v", got)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"README", "keep"}) {
		t.Fatalf("storage holds %v, want [README keep]", names)
	}
}

func TestOpenFailsOnBadConfig(t *testing.T) {
	cases := []struct {
		name   string
		config []byte // nil: no config file
	}{
		{"missing config", nil},
		{"not json", []byte(`{"params":`)},
		{"bad distance", []byte(`{"params":{"vectors":{"size":4,"distance":"Nope"}}}`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			n := openNode(t, root)
			if err := n.CreateCollection(context.Background(), "good", createReq(t, vec4)); err != nil {
				t.Fatal(err)
			}
			if err := n.Close(); err != nil {
				t.Fatal(err)
			}
			bad := filepath.Join(collectionsDir(root), "bad")
			if err := os.MkdirAll(bad, 0o755); err != nil {
				t.Fatal(err)
			}
			if c.config != nil {
				if err := os.WriteFile(filepath.Join(bad, configFile), c.config, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			n2, err := Open(testOptions(root))
			if err == nil {
				n2.Close()
				t.Fatal("opened a node with a broken collection")
			}
			if !strings.Contains(err.Error(), `"bad"`) {
				t.Fatalf("error does not name the collection: %v", err)
			}
		})
	}
}

func TestUpdateCollectionPersists(t *testing.T) {
	root := t.TempDir()
	n := openNode(t, root)
	if err := n.CreateCollection(context.Background(), "c", createReq(t, `{"vectors":{"v":{"size":4,"distance":"Dot"}},"metadata":{"a":1}}`)); err != nil {
		t.Fatal(err)
	}
	var req collection.UpdateRequest
	if err := point.DecodeJSON([]byte(`{"hnsw_config":{"m":48},"metadata":{"b":2.0},"vectors":{"v":{"on_disk":true}}}`), &req); err != nil {
		t.Fatal(err)
	}
	if err := n.UpdateCollection(context.Background(), "c", &req); err != nil {
		t.Fatal(err)
	}
	c, _ := n.Collection("c")
	live, _ := c.Config()
	if live.HnswConfig.M != 48 {
		t.Fatalf("live config m = %d", live.HnswConfig.M)
	}

	// The file holds the same config, written atomically: no temporary
	// file is left next to it.
	path := filepath.Join(collectionsDir(root), "c", configFile)
	onDisk, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fromDisk collection.Config
	if err := point.DecodeJSON(onDisk, &fromDisk); err != nil {
		t.Fatalf("config file: %v\n%s", err, onDisk)
	}
	a, _ := json.Marshal(live)
	b, _ := json.Marshal(&fromDisk)
	if string(a) != string(b) {
		t.Fatalf("config file differs from the live config:\n%s\n%s", b, a)
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary config file left behind: %v", err)
	}
	if got := string(onDisk); !strings.Contains(got, `"b": 2.0`) || !strings.Contains(got, `"a": 1`) {
		t.Fatalf("metadata numbers not kept as written:\n%s", got)
	}

	// Failed updates change neither the file nor the live config.
	for _, body := range []string{`{"hnsw_config":{"ef_construct":1}}`, `{"vectors":{"nope":{"on_disk":true}}}`} {
		var bad collection.UpdateRequest
		if err := point.DecodeJSON([]byte(body), &bad); err != nil {
			t.Fatal(err)
		}
		if err := n.UpdateCollection(context.Background(), "c", &bad); err == nil {
			t.Fatalf("update %s succeeded", body)
		}
	}
	if now, _ := os.ReadFile(path); string(now) != string(onDisk) {
		t.Fatal("failed update rewrote the config file")
	}
	if err := n.UpdateCollection(context.Background(), "missing", &req); point.KindOf(err) != point.KindNotFound {
		t.Fatalf("update of a missing collection: %v", err)
	}

	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n2 := openNode(t, root)
	c2, err := n2.Collection("c")
	if err != nil {
		t.Fatal(err)
	}
	reopened, _ := c2.Config()
	if r, _ := json.Marshal(reopened); string(r) != string(a) {
		t.Fatalf("config after reopen:\n%s\nwant\n%s", r, a)
	}
}

func TestConcurrentCreateDelete(t *testing.T) {
	n := openNode(t, t.TempDir())
	const workers = 6
	var wg sync.WaitGroup
	errs := make(chan error, workers*10)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Everyone fights over "shared"; each also owns one name.
			own := "own-" + string(rune('a'+w))
			for range 5 {
				if err := n.CreateCollection(context.Background(), own, createReq(t, vec4)); err != nil {
					errs <- err
				}
				if err := n.CreateCollection(context.Background(), "shared", createReq(t, vec4)); err != nil && point.KindOf(err) != point.KindAlreadyExists {
					errs <- err
				}
				if _, err := n.DeleteCollection(context.Background(), own); err != nil {
					errs <- err
				}
				if _, err := n.DeleteCollection(context.Background(), "shared"); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := n.Collections(); len(got) != 0 {
		t.Fatalf("left over: %v", got)
	}
}

func TestLongestNames(t *testing.T) {
	root := t.TempDir()
	n := openNode(t, root)
	names := []string{strings.Repeat("a", 255), strings.Repeat("b", 250), strings.Repeat("é", 127)}
	for _, name := range names {
		if err := ValidateCollectionName(name); err != nil {
			t.Fatalf("%d-byte name: %v", len(name), err)
		}
		if err := n.CreateCollection(context.Background(), name, createReq(t, vec4)); err != nil {
			t.Fatalf("create %d-byte name: %v", len(name), err)
		}
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = openNode(t, root)
	if got := len(n.Collections()); got != len(names) {
		t.Fatalf("%d collections after reopen, want %d", got, len(names))
	}
	for _, name := range names {
		if existed, err := n.DeleteCollection(context.Background(), name); err != nil || !existed {
			t.Fatalf("delete %d-byte name: %v %v", len(name), existed, err)
		}
	}
	if entries, _ := os.ReadDir(collectionsDir(root)); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
}

func TestCollectionDirPermissions(t *testing.T) {
	root := t.TempDir()
	n := openNode(t, root)
	if err := n.CreateCollection(context.Background(), "c", createReq(t, vec4)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(collectionsDir(root), "c"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o755 {
		t.Fatalf("collection dir mode %v", perm)
	}
}

// TestAliasesPersist: standalone aliases survive a reopen, and an alias of
// a collection removed while the node was down is dropped.
func TestAliasesPersist(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, dir)
	ctx := context.Background()
	for _, name := range []string{"a", "b"} {
		if err := n.CreateCollection(ctx, name, createReq(t, `{"vectors":{"size":2,"distance":"Dot"}}`)); err != nil {
			t.Fatal(err)
		}
	}
	err := n.ChangeAliases(ctx, []AliasAction{
		{Create: &cluster.CreateAlias{CollectionName: "a", AliasName: "x"}},
		{Create: &cluster.CreateAlias{CollectionName: "b", AliasName: "y"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(collectionsDir(dir), "b")); err != nil {
		t.Fatal(err)
	}
	n = openNode(t, dir)
	defer n.Close()
	if got := n.Aliases(); len(got) != 1 || got["x"] != "a" {
		t.Fatalf("aliases after reopen: %v", got)
	}
	if c, err := n.Collection("x"); err != nil || c.Name() != "a" {
		t.Fatalf("alias x: %v", err)
	}
}
