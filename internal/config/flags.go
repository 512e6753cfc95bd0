package config

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// Flags are the command-line arguments of shoal, named as Qdrant's.
type Flags struct {
	// ConfigPath is --config-path: one more config file, merged after
	// config/local and before the environment. It must exist.
	ConfigPath string
	// URI is --uri (or QDRANT_URI): how other peers reach this one, e.g.
	// http://node-1:6335. Required on the first peer of a new cluster.
	URI string
	// Bootstrap is --bootstrap (or QDRANT_BOOTSTRAP): a peer of an existing
	// cluster to join through. Empty starts a new cluster.
	Bootstrap string
	// Snapshots are the --snapshot PATH:NAME values, in order, and
	// StorageSnapshot is --storage-snapshot: main restores them before
	// serving (standalone only; refused on a cluster).
	Snapshots       []SnapshotSpec
	StorageSnapshot string
	// ForceSnapshot (-f, --force-snapshot) replaces existing collections
	// when restoring snapshots.
	ForceSnapshot    bool
	DisableTelemetry bool
	// Stacktrace is Qdrant's stack-trace helper mode, which Shoal does not
	// have: main explains and exits without starting.
	Stacktrace bool
	// Reinit resets the consensus state on start, keeping the peer id.
	Reinit bool
	// Version (-V, --version) asks main to print the version and exit.
	Version bool
}

// SnapshotSpec is one --snapshot value: restore the collection snapshot at
// Path as the collection Collection.
type SnapshotSpec struct {
	Path       string
	Collection string
}

// flagDef is one flag with its aliases; the same table registers the flags
// and writes the usage text, so the two cannot drift apart.
type flagDef struct {
	names []string // long name first; one-letter names are short aliases
	arg   string   // value placeholder; empty for a boolean flag
	env   string   // environment fallback, if any
	help  string
	value flag.Value
}

func flagDefs(f *Flags) []flagDef {
	return []flagDef{
		{names: []string{"config-path"}, arg: "PATH", value: (*stringFlag)(&f.ConfigPath),
			help: "Extra configuration file, merged after config/config, config/$RUN_MODE and config/local.\nThe file must exist."},
		{names: []string{"uri"}, arg: "URI", env: "QDRANT_URI", value: (*stringFlag)(&f.URI),
			help: "URI of this peer, as other peers reach it (e.g. http://node-1:6335).\nRequired on the first peer of a new cluster."},
		{names: []string{"bootstrap"}, arg: "URI", env: "QDRANT_BOOTSTRAP", value: (*stringFlag)(&f.Bootstrap),
			help: "URI of a peer of an existing cluster to join.\nIf not given, this peer starts a new deployment."},
		{names: []string{"snapshot", "collection-snapshot"}, arg: "PATH:NAME", value: (*snapshotsFlag)(&f.Snapshots),
			help: "Restore the collection snapshot at PATH as collection NAME before serving.\nStandalone only (refused on a cluster); an existing collection is replaced\nonly when forced (-f). May be given several times."},
		{names: []string{"storage-snapshot"}, arg: "PATH", value: (*stringFlag)(&f.StorageSnapshot),
			help: "Restore a full-storage snapshot (every collection and alias) before serving.\nStandalone only (refused on a cluster); existing collections are replaced\nonly when forced (-f)."},
		{names: []string{"force-snapshot", "f"}, value: (*boolFlag)(&f.ForceSnapshot),
			help: "Replace existing collections when restoring --snapshot or\n--storage-snapshot."},
		{names: []string{"disable-telemetry"}, value: (*boolFlag)(&f.DisableTelemetry),
			help: "Disable telemetry (Shoal sends none; accepted for compatibility)."},
		{names: []string{"stacktrace"}, value: (*boolFlag)(&f.Stacktrace),
			help: "Not supported: prints how to get the goroutine stacks of a running shoal\nand exits with status 2 without starting. (In Qdrant it is the helper a\nrunning Qdrant starts to collect its own stack trace.)"},
		{names: []string{"reinit"}, value: (*boolFlag)(&f.Reinit),
			help: "Reinitialise the consensus state, keeping the peer id. With --bootstrap,\nfetch the state from that peer; without, become the single voter."},
		{names: []string{"version", "V"}, value: (*boolFlag)(&f.Version),
			help: "Print the version and exit."},
	}
}

// ParseFlags parses args (without the program name). Flags take "--name
// value" or "--name=value", with one or two dashes. environ (as os.Environ
// returns it; nil means an empty one) supplies the fallbacks QDRANT_URI and
// QDRANT_BOOTSTRAP (a flag wins over its variable). For -h or --help it returns flag.ErrHelp:
// main then prints Usage and exits 0.
func ParseFlags(args []string, environ []string) (Flags, error) {
	env := envMap(environ)
	getenv := func(k string) string { return env[k] }
	var f Flags
	fs := flag.NewFlagSet("shoal", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the caller prints errors and Usage
	fs.Usage = func() {}
	for _, d := range flagDefs(&f) {
		for _, n := range d.names {
			fs.Var(d.value, n, d.help)
		}
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return Flags{}, err
		}
		return Flags{}, fmt.Errorf("parse flags: %w", err)
	}
	if fs.NArg() > 0 {
		return Flags{}, fmt.Errorf("parse flags: unexpected argument %q", fs.Arg(0))
	}
	if f.URI == "" {
		f.URI = getenv("QDRANT_URI")
	}
	if f.Bootstrap == "" {
		f.Bootstrap = getenv("QDRANT_BOOTSTRAP")
	}
	if err := checkPeerURI("--uri (QDRANT_URI)", f.URI); err != nil {
		return Flags{}, err
	}
	if err := checkPeerURI("--bootstrap (QDRANT_BOOTSTRAP)", f.Bootstrap); err != nil {
		return Flags{}, err
	}
	return f, nil
}

// checkPeerURI requires a scheme and a host, which dialing a peer needs.
func checkPeerURI(what, s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%s: invalid URI %q: %w", what, s, err)
	}
	if u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("%s: invalid URI %q: want scheme://host:port, e.g. http://node-1:6335", what, s)
	}
	return nil
}

// Usage is the help text of shoal: every flag and the environment scheme.
func Usage() string {
	var b strings.Builder
	b.WriteString(`Usage: shoal [flags]

Shoal is a vector database that speaks Qdrant's APIs. It reads its
configuration like Qdrant does.

Flags:
`)
	for _, d := range flagDefs(&Flags{}) {
		var names []string
		for _, n := range d.names {
			if len(n) == 1 {
				names = append([]string{"-" + n}, names...)
			} else {
				names = append(names, "--"+n)
			}
		}
		head := "  " + strings.Join(names, ", ")
		if d.arg != "" {
			head += " " + d.arg
		}
		b.WriteString(head + "\n")
		for line := range strings.SplitSeq(d.help, "\n") {
			b.WriteString("      " + line + "\n")
		}
		if d.env != "" {
			b.WriteString("      Environment: " + d.env + "\n")
		}
	}
	b.WriteString(`  -h, --help
      Print this help and exit.

Configuration, later sources winning:
  built-in defaults (the same as config/config.yaml)
  config/config.yaml         relative to the working directory, optional
  config/$RUN_MODE.yaml      RUN_MODE defaults to "development", optional
  config/local.yaml          optional (.yml is accepted for these three)
  --config-path PATH         must exist
  QDRANT__SECTION__KEY=value environment variables

Environment variables name a key by its path in upper case, "__" between
levels, and values are converted to the key's type:
  QDRANT__LOG_LEVEL=debug
  QDRANT__SERVICE__HTTP_PORT=7000
  QDRANT__SERVICE__API_KEY=secret
  QDRANT__STORAGE__STORAGE_PATH=/data/storage
  QDRANT__CLUSTER__ENABLED=true
Set a nullable key to "null" to unset it (QDRANT__SERVICE__GRPC_PORT=null
disables gRPC). Unknown keys, in files or as QDRANT__ variables, are logged
and ignored. A key that turns on a Qdrant feature Shoal does not have yet
(service.enable_tls, service.jwt_rbac, audit.enabled, ...; see
config/config.yaml) stops the server with an error naming it.
`)
	return b.String()
}

type stringFlag string

func (s *stringFlag) String() string     { return string(*s) }
func (s *stringFlag) Set(v string) error { *s = stringFlag(v); return nil }

type boolFlag bool

func (b *boolFlag) String() string   { return fmt.Sprint(bool(*b)) }
func (b *boolFlag) IsBoolFlag() bool { return true }
func (b *boolFlag) Set(v string) error {
	switch strings.ToLower(v) {
	case "true", "1", "yes", "on":
		*b = true
	case "false", "0", "no", "off":
		*b = false
	default:
		return fmt.Errorf("want true or false, got %q", v)
	}
	return nil
}

type snapshotsFlag []SnapshotSpec

func (s *snapshotsFlag) String() string {
	if s == nil {
		return ""
	}
	parts := make([]string, len(*s))
	for i, sp := range *s {
		parts[i] = sp.Path + ":" + sp.Collection
	}
	return strings.Join(parts, ",")
}

// Set splits on the last colon: collection names cannot contain one, paths
// might.
func (s *snapshotsFlag) Set(v string) error {
	i := strings.LastIndexByte(v, ':')
	if i <= 0 || i == len(v)-1 {
		return fmt.Errorf("want PATH:NAME, got %q", v)
	}
	*s = append(*s, SnapshotSpec{Path: v[:i], Collection: v[i+1:]})
	return nil
}
