//go:build linux

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestJSClient runs js/compat.test.mjs, which drives the server with Qdrant's
// official JS REST client (pinned in js/package-lock.json). If
// js/node_modules is missing it runs `npm ci` first, so that `go test ./...`
// works alone; without node and npm it fails rather than skips.
func TestJSClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is required for the JS client compatibility test: %v", err)
	}
	jsDir := filepath.Join(repoRoot(t), "tests", "e2e", "js")
	if _, err := os.Stat(filepath.Join(jsDir, "node_modules", "@qdrant", "js-client-rest", "package.json")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatalf("npm is required to install the JS client (node_modules is missing): %v", err)
		}
		t.Logf("%s is missing: running npm ci", filepath.Join(jsDir, "node_modules"))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = jsDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", jsDir, err, out)
		}
	}

	s := newServer(t)
	s.start()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "compat.test.mjs")
	cmd.Dir = jsDir
	cmd.Env = append(os.Environ(), "QDRANT_URL="+s.baseURL(), "NO_COLOR=1", "FORCE_COLOR=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test compat.test.mjs: %v\n%s", err, out)
	}
	t.Logf("node --test compat.test.mjs:\n%s", out)
}
