//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestJSClient runs every js/*.test.mjs against one server: compat.test.mjs
// and sparse.test.mjs (a hybrid dense and sparse collection) drive it with
// Qdrant's official JS REST client, langchain.test.mjs with LangChain JS
// (@langchain/qdrant over that client, on a hybrid-ready collection). The
// packages are pinned in js/package-lock.json and run on the Node.js pinned
// in js/toolchain (the client needs Node >= 22; the toolchain's packages hold
// the official node binary for linux x64 and arm64 and come from the npm
// registry). What is missing or stale is installed with `npm ci`, as
// scripts/test.sh does, so that `go test ./...` works alone; without npm it
// fails rather than skips.
func TestJSClient(t *testing.T) {
	jsDir := filepath.Join(repoRoot(t), "tests", "e2e", "js")
	node := installJS(t, jsDir)
	files := jsTestFiles(t, jsDir)

	s := newServer(t)
	s.start()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"--test", "--test-reporter=spec"}, files...)
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = jsDir
	cmd.Env = append(nodeEnv(),
		"PATH="+withPath(filepath.Dir(node)), "QDRANT_URL="+s.baseURL(), "NO_COLOR=1", "FORCE_COLOR=0",
		// LangChain sends traces to LangSmith only when asked to: never here.
		"LANGSMITH_TRACING=false", "LANGCHAIN_TRACING_V2=false")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", node, strings.Join(args, " "), err, out)
	}
	t.Logf("%s %s:\n%s", node, strings.Join(args, " "), out)
}

// jsTestFiles lists js/*.test.mjs, and fails if one the suite relies on is
// missing (a glob that matched nothing would pass on no test).
func jsTestFiles(t *testing.T, jsDir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(jsDir, "*.test.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	files := make([]string, 0, len(paths))
	for _, p := range paths {
		files = append(files, filepath.Base(p))
	}
	sort.Strings(files)
	for _, want := range []string{"compat.test.mjs", "sparse.test.mjs", "langchain.test.mjs"} {
		if i := sort.SearchStrings(files, want); i == len(files) || files[i] != want {
			t.Fatalf("%s/%s is missing (found %v)", jsDir, want, files)
		}
	}
	return files
}

// nodeEnv is the environment of the node process: the test's, without the
// caller's Qdrant settings (LangChain reads QDRANT_URL and QDRANT_API_KEY)
// or LangSmith/LangChain ones.
func nodeEnv() []string {
	var env []string
	for _, kv := range baseEnv() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "LANGSMITH_") || strings.HasPrefix(k, "LANGCHAIN_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// installJS makes sure js/toolchain and js hold their node_modules and
// returns the node to run the test with: the toolchain's, or, on a platform
// it has no package for, the one on PATH (whose version the test checks).
func installJS(t *testing.T, jsDir string) string {
	t.Helper()
	toolchain := filepath.Join(jsDir, "toolchain")
	node := filepath.Join(toolchain, "node_modules", ".bin", "node")
	if !exists(t, node) {
		npmCI(t, toolchain, os.Getenv("PATH"))
	}
	if !exists(t, node) {
		t.Logf("%s has no Node.js package for this platform: using node from PATH", toolchain)
		var err error
		if node, err = exec.LookPath("node"); err != nil {
			t.Fatalf("node is required for the JS client compatibility test: %v", err)
		}
	}
	if stale := staleJSDeps(t, jsDir); len(stale) > 0 {
		t.Logf("%s/node_modules does not hold %v", jsDir, stale)
		// npm runs on the pinned node, so it checks the client's engines
		// against the Node that will run it.
		npmCI(t, jsDir, withPath(filepath.Dir(node)))
		if stale := staleJSDeps(t, jsDir); len(stale) > 0 {
			t.Fatalf("npm ci in %s left %v missing or at another version", jsDir, stale)
		}
	}
	return node
}

// exactVersion is a dependency pinned to one version (as --save-exact
// writes it), which the installed package must have.
var exactVersion = regexp.MustCompile(`^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$`)

// staleJSDeps lists the dependencies of dir/package.json that
// dir/node_modules lacks, or holds at another version than an exact pin (a
// node_modules installed before a package was added or bumped), as
// "name@want (have)".
func staleJSDeps(t *testing.T, dir string) []string {
	t.Helper()
	var manifest struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	readJSON(t, filepath.Join(dir, "package.json"), &manifest)
	if len(manifest.Dependencies) == 0 {
		t.Fatalf("%s/package.json has no dependencies", dir)
	}
	var stale []string
	for name, want := range manifest.Dependencies {
		path := filepath.Join(dir, "node_modules", filepath.FromSlash(name), "package.json")
		if !exists(t, path) {
			stale = append(stale, name+"@"+want+" (missing)")
			continue
		}
		var installed struct {
			Version string `json:"version"`
		}
		readJSON(t, path, &installed)
		if exactVersion.MatchString(want) && installed.Version != want {
			stale = append(stale, name+"@"+want+" ("+installed.Version+")")
		}
	}
	sort.Strings(stale)
	return stale
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// npmCI runs `npm ci` in dir with the given PATH.
func npmCI(t *testing.T, dir, path string) {
	t.Helper()
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("npm is required to install %s/node_modules: %v", dir, err)
	}
	t.Logf("%s/node_modules is missing: running npm ci", dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
}

// withPath is $PATH with dir in front.
func withPath(dir string) string {
	return strings.Join([]string{dir, os.Getenv("PATH")}, string(os.PathListSeparator))
}

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// TestStaleJSDeps: installJS runs npm ci when a pinned package is missing
// or at another version (a node_modules from before a package was added or
// bumped), and only then.
func TestStaleJSDeps(t *testing.T) {
	manifest := `{"dependencies": {"@qdrant/js-client-rest": "1.19.0", "@langchain/qdrant": "1.0.3", "ranged": "^2.0.0"}}`
	cases := []struct {
		name      string
		installed map[string]string // package -> version in node_modules
		want      []string
	}{
		{"all there", map[string]string{"@qdrant/js-client-rest": "1.19.0", "@langchain/qdrant": "1.0.3", "ranged": "2.5.1"}, nil},
		{"one missing", map[string]string{"@qdrant/js-client-rest": "1.19.0", "ranged": "2.0.0"}, []string{"@langchain/qdrant@1.0.3 (missing)"}},
		{"other version", map[string]string{"@qdrant/js-client-rest": "1.15.1", "@langchain/qdrant": "1.0.3", "ranged": "2.0.0"}, []string{"@qdrant/js-client-rest@1.19.0 (1.15.1)"}},
		{"none", nil, []string{"@langchain/qdrant@1.0.3 (missing)", "@qdrant/js-client-rest@1.19.0 (missing)", "ranged@^2.0.0 (missing)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write := func(path, body string) {
				t.Helper()
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write(filepath.Join(dir, "package.json"), manifest)
			for name, version := range tc.installed {
				write(filepath.Join(dir, "node_modules", filepath.FromSlash(name), "package.json"), `{"name": "`+name+`", "version": "`+version+`"}`)
			}
			got := staleJSDeps(t, dir)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("staleJSDeps = %q, want %q", got, tc.want)
			}
		})
	}
}
