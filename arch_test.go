package shoal_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection holds the arrows of ../shared/ARCHITECTURE.md: lower
// packages never import higher ones.
func TestImportDirection(t *testing.T) {
	const mod = "github.com/shoaldb/shoal/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	// Leaves every package may import: the one corruption marker and the
	// file-system seam. They import nothing of the module themselves.
	leaves := map[string]bool{mod + "internal/errkind": true, mod + "internal/vfs": true}
	// package prefix -> import prefixes it must not use
	forbidden := map[string][]string{
		"internal/errkind":    {mod},
		"internal/vfs":        {mod},
		"internal/point":      {mod},
		"internal/vector":     {mod},
		"internal/wal":        {mod},
		"internal/filter":     {mod + "internal/segment", mod + "internal/shard", mod + "internal/collection", mod + "internal/node", mod + "internal/api"},
		"internal/index":      {mod + "internal/segment", mod + "internal/shard", mod + "internal/collection", mod + "internal/node", mod + "internal/api"},
		"internal/segment":    {mod + "internal/shard", mod + "internal/collection", mod + "internal/node", mod + "internal/api", mod + "internal/config"},
		"internal/shard":      {mod + "internal/collection", mod + "internal/node", mod + "internal/api", mod + "internal/config"},
		"internal/collection": {mod + "internal/node", mod + "internal/api", mod + "internal/config"},
		"internal/node":       {mod + "internal/api", mod + "internal/config"},
		"internal/config":     {mod},
		"internal/cluster":    {"go.etcd.io/raft", mod + "internal/node", mod + "internal/api"},
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], mod)
		for prefix, bans := range forbidden {
			if pkg != prefix && !strings.HasPrefix(pkg, prefix+"/") {
				continue
			}
			if prefix == "internal/cluster" && strings.HasPrefix(pkg, "internal/cluster/consensus") {
				continue // the one place allowed to import raft
			}
			for _, imp := range fields[1:] {
				for _, ban := range bans {
					// A package may import its own parent (vector/quant -> vector).
					if strings.HasPrefix(imp, ban) && !strings.HasPrefix(mod+pkg, imp) && !leaves[imp] {
						t.Errorf("%s imports %s, against the architecture's import direction", pkg, imp)
					}
				}
			}
		}
		for _, imp := range fields[1:] {
			if imp == mod+"internal/vfs/vfstest" {
				t.Errorf("%s imports %s: only tests may", pkg, imp)
			}
		}
		if strings.HasPrefix(pkg, "internal/") && !strings.HasPrefix(pkg, "internal/api") {
			for _, imp := range fields[1:] {
				if strings.HasPrefix(imp, mod+"internal/api") || strings.HasPrefix(imp, mod+"cmd") {
					t.Errorf("%s imports %s: nothing below the API may import it", pkg, imp)
				}
			}
		}
	}
}
