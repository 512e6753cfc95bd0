//go:build linux

package e2e

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestJSClient runs js/compat.test.mjs and js/sparse.test.mjs (a hybrid
// dense and sparse collection), which drive the server with Qdrant's
// official JS REST client (pinned in js/package-lock.json), on the Node.js
// pinned in js/toolchain (the client needs Node >= 22; the toolchain's
// packages hold the official node binary for linux x64 and arm64 and come
// from the npm registry). What is missing is installed with `npm ci`, as
// scripts/test.sh does, so that `go test ./...` works alone; without npm it
// fails rather than skips.
func TestJSClient(t *testing.T) {
	jsDir := filepath.Join(repoRoot(t), "tests", "e2e", "js")
	node := installJS(t, jsDir)

	s := newServer(t)
	s.start()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "compat.test.mjs", "sparse.test.mjs")
	cmd.Dir = jsDir
	cmd.Env = append(os.Environ(), "PATH="+withPath(filepath.Dir(node)), "QDRANT_URL="+s.baseURL(), "NO_COLOR=1", "FORCE_COLOR=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s --test compat.test.mjs sparse.test.mjs: %v\n%s", node, err, out)
	}
	t.Logf("%s --test compat.test.mjs sparse.test.mjs:\n%s", node, out)
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
	if !exists(t, filepath.Join(jsDir, "node_modules", "@qdrant", "js-client-rest", "package.json")) {
		// npm runs on the pinned node, so it checks the client's engines
		// against the Node that will run it.
		npmCI(t, jsDir, withPath(filepath.Dir(node)))
	}
	return node
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
