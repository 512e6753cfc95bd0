package cluster

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoDependencies holds the package to its place in the architecture:
// a pure state machine that imports the standard library and
// internal/point only (no raft, no gRPC, no engine). What point itself
// needs is point's business.
func TestNoDependencies(t *testing.T) {
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	allowed := map[string]bool{"github.com/shoaldb/shoal/internal/cluster": true}
	for _, p := range deps("../point") {
		allowed[p] = true
	}
	for _, pkg := range deps(".") {
		if !allowed[pkg] {
			t.Errorf("internal/cluster depends on %s", pkg)
		}
	}
}
