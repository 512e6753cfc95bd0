package shoal_test

import (
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The arrows of ../shared/ARCHITECTURE.md, held by two checks over `go list`:
// what a package imports (its direct imports) and what it reaches (every
// package it depends on, however indirectly: a layer that may not import
// the shard must not import something that does either).

const mod = "github.com/shoaldb/shoal"

// rule bans the packages under each of pkgs (paths relative to the module;
// "." is the module's root package, the embedded API) from importing or
// reaching the packages under any of bans (relative to the module, or a
// full path outside it), except the packages in except. A package may
// always use the tree it lives in (vector/quant uses vector).
type rule struct {
	pkgs   []string
	except []string
	bans   []string
	why    string
}

// leaves are packages every package may import, whatever a rule bans:
// the one corruption marker and the file-system seam (seam/vfs). They
// import nothing of the module themselves; vfstest, the seam's fakes, is
// for tests only.
var leaves = []string{"internal/errkind", "internal/vfs"}

// engine is what an API must not use directly: it goes through node,
// collection and the vocabulary (ops, point, filter).
var engine = []string{"internal/shard", "internal/segment", "internal/index", "internal/vector", "internal/wal",
	"internal/cluster/consensus", "internal/fsutil"}

// importRules hold direct imports.
var importRules = []rule{
	{pkgs: append([]string{"internal/point", "internal/vector", "internal/wal", "internal/config"}, leaves...), bans: []string{""}, why: "a leaf of the module"},
	{pkgs: []string{""}, except: []string{"internal/vfs/vfstest"}, bans: []string{"internal/vfs/vfstest"}, why: "only tests use the seam's fakes"},
	// tests/... are test programs (the fault-injection suite and its
	// long-run command), never part of shoal.
	{pkgs: []string{""}, except: []string{"internal/testkit", "internal/clustertest", "tests"}, bans: []string{"internal/testkit", "internal/clustertest"}, why: "test helpers are for tests only"},
	{pkgs: []string{"internal/filter", "internal/index"}, bans: []string{"internal/segment", "internal/shard", "internal/collection", "internal/node", "internal/api"}},
	{pkgs: []string{"internal/segment"}, bans: []string{"internal/shard", "internal/collection", "internal/node", "internal/api", "internal/config"}},
	{pkgs: []string{"internal/shard"}, bans: []string{"internal/collection", "internal/node", "internal/api", "internal/config"}},
	{pkgs: []string{"internal/collection"}, bans: []string{"internal/node", "internal/api", "internal/config"}},
	{pkgs: []string{"internal/node"}, bans: []string{"internal/api", "internal/config"}},
	{pkgs: []string{"internal/cluster"}, bans: []string{"internal/node", "internal/api"}},
	{pkgs: []string{"internal/api", "."}, bans: engine, why: "an API builds the vocabulary (ops) and calls node and collection"},
	{pkgs: []string{""}, except: []string{"internal/cluster/consensus"}, bans: []string{"go.etcd.io/raft"}, why: "only consensus drives raft"},
	{pkgs: []string{"internal"}, except: []string{"internal/api"}, bans: []string{"internal/api", "cmd"}, why: "nothing below the API may import it"},
}

// reachRules hold every dependency, direct or not.
var reachRules = []rule{
	{pkgs: append([]string{"internal/point", "internal/vector", "internal/wal", "internal/config"}, leaves...), bans: []string{""}, why: "a leaf of the module"},
	{
		pkgs: []string{"internal/filter", "internal/index"},
		bans: []string{"internal/segment", "internal/shard", "internal/collection", "internal/node", "internal/api", "internal/cluster",
			"internal/ops", "internal/wal", "go.etcd.io/raft"},
		why: "filters and indexes sit below the segment and the request vocabulary",
	},
	{
		pkgs: []string{"internal/ops"},
		bans: []string{"internal/segment", "internal/shard", "internal/index", "internal/vector/quant", "internal/wal", "internal/fsutil",
			"internal/collection", "internal/node", "internal/api", "internal/cluster", "internal/config", "go.etcd.io/raft"},
		why: "the vocabulary is plain values every API builds; collection and shard convert them below",
	},
	{pkgs: []string{"internal/segment"}, bans: []string{"internal/shard", "internal/ops", "internal/collection", "internal/node", "internal/api", "internal/cluster", "internal/config"}},
	{pkgs: []string{"internal/shard"}, bans: []string{"internal/collection", "internal/node", "internal/api", "internal/cluster", "internal/config"}},
	{pkgs: []string{"internal/collection"}, bans: []string{"internal/node", "internal/api", "internal/cluster", "internal/config", "go.etcd.io/raft"}},
	{pkgs: []string{"internal"}, except: []string{"internal/node", "internal/api"}, bans: []string{"internal/node", "internal/api", "cmd"}, why: "nothing below node reaches node or an API"},
}

// pkgInfo is one package of the module as go list describes it, with
// module paths made relative ("." for the root package).
type pkgInfo struct {
	imports, deps []string
}

func rel(p string) string {
	switch {
	case p == mod:
		return "."
	case strings.HasPrefix(p, mod+"/"):
		return strings.TrimPrefix(p, mod+"/")
	}
	return p
}

// under reports whether pkg is in the tree at prefix ("." is the root
// package alone).
func under(pkg, prefix string) bool {
	if prefix == "." {
		return pkg == "."
	}
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

func loadGraph(t *testing.T) map[string]pkgInfo {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports " "}}|{{join .Deps " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	g := map[string]pkgInfo{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		if len(parts) != 3 {
			t.Fatalf("go list line %q", line)
		}
		conv := func(s string) []string {
			var out []string
			for _, p := range strings.Fields(s) {
				out = append(out, rel(p))
			}
			return out
		}
		g[rel(parts[0])] = pkgInfo{imports: conv(parts[1]), deps: conv(parts[2])}
	}
	return g
}

// violations checks rules against the graph, on each package's direct
// imports or on everything it reaches (a path through its imports is
// named for each).
func violations(g map[string]pkgInfo, rules []rule, reach bool) []string {
	// "" is every package of the module: the packages go list listed.
	in := func(pkg, prefix string) bool {
		if prefix == "" {
			_, ok := g[pkg]
			return ok
		}
		return under(pkg, prefix)
	}
	var out []string
	for _, pkg := range slices.Sorted(maps.Keys(g)) {
		used := g[pkg].imports
		if reach {
			used = g[pkg].deps
		}
		for _, r := range rules {
			if !slices.ContainsFunc(r.pkgs, func(p string) bool { return in(pkg, p) }) ||
				slices.ContainsFunc(r.except, func(p string) bool { return in(pkg, p) }) {
				continue
			}
			for _, dep := range used {
				for _, ban := range r.bans {
					// A package may use its own tree and its parents
					// (vector/quant uses vector).
					if !in(dep, ban) || under(pkg, dep) || under(dep, pkg) || slices.Contains(leaves, dep) {
						continue
					}
					msg := fmt.Sprintf("%s imports %s", pkg, dep)
					if reach {
						msg = fmt.Sprintf("%s reaches %s (%s)", pkg, dep, strings.Join(path(g, pkg, dep), " -> "))
					}
					if r.why != "" {
						msg += ": " + r.why
					}
					out = append(out, msg)
				}
			}
		}
	}
	return out
}

// path finds a chain of imports from pkg to dep.
func path(g map[string]pkgInfo, from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == to {
			var chain []string
			for ; p != ""; p = prev[p] {
				chain = append(chain, p)
			}
			slices.Reverse(chain)
			return chain
		}
		for _, next := range g[p].imports {
			if _, seen := prev[next]; !seen {
				prev[next] = p
				queue = append(queue, next)
			}
		}
	}
	return []string{from, "...", to}
}

// TestImportDirection: lower packages never import higher ones, and the
// APIs use the engine only through node, collection and the vocabulary.
func TestImportDirection(t *testing.T) {
	for _, v := range violations(loadGraph(t), importRules, false) {
		t.Error(v)
	}
}

// TestLayering: the same arrows, over everything a package depends on.
func TestLayering(t *testing.T) {
	for _, v := range violations(loadGraph(t), reachRules, true) {
		t.Error(v)
	}
}

// TestRulesCatchViolations runs the checks on small graphs, so that a rule
// that can no longer fail shows up here.
func TestRulesCatchViolations(t *testing.T) {
	// deps are the closure of imports, as go list reports them.
	// deps are the closure of imports, as go list reports them; every
	// package named is a package of the module but raft's.
	graph := func(imports map[string][]string) map[string]pkgInfo {
		g := map[string]pkgInfo{}
		var walk func(p string, seen map[string]bool)
		walk = func(p string, seen map[string]bool) {
			for _, d := range imports[p] {
				if !seen[d] {
					seen[d] = true
					walk(d, seen)
				}
			}
		}
		for p, imps := range imports {
			for _, d := range append(imps, p) {
				if _, ok := g[d]; !ok && !strings.HasPrefix(d, "go.etcd.io") {
					g[d] = pkgInfo{}
				}
			}
		}
		for p, imps := range imports {
			seen := map[string]bool{}
			walk(p, seen)
			g[p] = pkgInfo{imports: imps, deps: slices.Sorted(maps.Keys(seen))}
		}
		return g
	}
	cases := []struct {
		name    string
		imports map[string][]string
		reach   bool
		want    []string // substrings, one per violation
	}{
		{
			name:    "clean",
			imports: map[string][]string{"internal/api/rest": {"internal/node", "internal/ops"}, "internal/node": {"internal/collection"}, "internal/collection": {"internal/shard", "internal/ops"}, "internal/shard": {"internal/segment"}, "internal/ops": {"internal/filter"}},
			reach:   true,
		},
		{
			name:    "an API imports the shard",
			imports: map[string][]string{"internal/api/rest": {"internal/shard", "internal/node"}},
			want:    []string{"internal/api/rest imports internal/shard"},
		},
		{
			name:    "the embedded package imports quantization",
			imports: map[string][]string{".": {"internal/vector/quant"}},
			want:    []string{". imports internal/vector/quant"},
		},
		{
			name:    "the vocabulary reaches the WAL through another package",
			imports: map[string][]string{"internal/ops": {"internal/filter"}, "internal/filter": {"internal/wal"}},
			reach:   true,
			want:    []string{"internal/filter reaches internal/wal", "internal/ops reaches internal/wal (internal/ops -> internal/filter -> internal/wal)"},
		},
		{
			name:    "an index reaches the segment",
			imports: map[string][]string{"internal/index/payload": {"internal/point"}, "internal/point": {"internal/segment"}},
			reach:   true,
			want:    []string{"internal/index/payload reaches internal/segment", "internal/point reaches internal/segment"},
		},
		{
			name:    "raft outside consensus",
			imports: map[string][]string{"internal/cluster/consensus": {"go.etcd.io/raft/v3"}, "internal/cluster/p2p": {"go.etcd.io/raft/v3/raftpb"}},
			want:    []string{"internal/cluster/p2p imports go.etcd.io/raft/v3/raftpb"},
		},
		{
			name:    "the WAL and the API use the leaves",
			imports: map[string][]string{"internal/wal": {"internal/vfs", "internal/errkind"}, "internal/api/rest": {"internal/errkind"}, "internal/vfs": {"internal/errkind"}},
			reach:   true,
		},
		{
			name:    "a leaf imports the module",
			imports: map[string][]string{"internal/vfs": {"internal/point"}},
			want:    []string{"internal/vfs imports internal/point"},
		},
		{
			name:    "a package imports the seam's fakes",
			imports: map[string][]string{"internal/shard": {"internal/vfs/vfstest"}, "internal/vfs/vfstest": {"internal/vfs", "internal/errkind"}},
			want:    []string{"internal/shard imports internal/vfs/vfstest"},
		},
		{
			name:    "a package uses its parent",
			imports: map[string][]string{"internal/vector/quant": {"internal/vector"}},
			reach:   true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rules := importRules
			if c.reach {
				rules = reachRules
			}
			got := violations(graph(c.imports), rules, c.reach)
			if len(got) != len(c.want) {
				t.Fatalf("violations %q, want %d like %q", got, len(c.want), c.want)
			}
			for i, w := range c.want {
				if !strings.Contains(got[i], w) {
					t.Fatalf("violation %q does not say %q", got[i], w)
				}
			}
		})
	}
}
