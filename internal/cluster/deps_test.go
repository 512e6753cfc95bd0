package cluster

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoDependencies holds the package to its place in the architecture:
// a pure state machine that imports the standard library, internal/point
// and internal/quota (the quota's config, a plain value the state keeps;
// quota itself imports the standard library only) and nothing else (no
// raft, no gRPC, no engine). What point itself needs is point's business.
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
	for _, p := range deps("../quota") {
		if p != "github.com/shoaldb/shoal/internal/quota" {
			t.Errorf("internal/quota depends on %s: it must stay a standard-library leaf", p)
		}
		allowed[p] = true
	}
	for _, pkg := range deps(".") {
		if !allowed[pkg] {
			t.Errorf("internal/cluster depends on %s", pkg)
		}
	}
}
