// Command shoal runs a Shoal node: a vector database that speaks Qdrant's
// APIs, configured exactly as Qdrant is (config/config.yaml, config/$RUN_MODE,
// config/local, --config-path, QDRANT__SECTION__KEY env vars).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shoaldb/shoal/internal/api/rest"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/config"
	"github.com/shoaldb/shoal/internal/node"
)

// version is Shoal's own version, set at build time with -ldflags.
var version = "0.1.0-dev"

// exitUsage is the exit status of a command line shoal cannot carry out.
const exitUsage = 2

// stacktraceHelp is the answer to --stacktrace.
const stacktraceHelp = `--stacktrace is not supported, and nothing was started. In Qdrant it is
the helper mode a running Qdrant starts to collect its own stack trace;
Shoal has no such helper. To see the goroutine stacks of a running shoal,
send it SIGQUIT (kill -QUIT <pid>): the Go runtime prints every stack to
stderr and the process exits with status 2, without a graceful shutdown
(acknowledged writes are safe in the write-ahead log).`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "shoal:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(exitUsage)
		}
		os.Exit(1)
	}
}

// usageError is a command line that asks for something shoal does not do.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(args []string) error {
	flags, err := config.ParseFlags(args, os.Environ())
	if errors.Is(err, flag.ErrHelp) {
		fmt.Print(config.Usage())
		return nil
	}
	if err != nil {
		return usageError{err.Error()}
	}
	if flags.Version {
		fmt.Printf("shoal %s (Qdrant API %s)\n", version, rest.APIVersion)
		return nil
	}
	if flags.Stacktrace {
		return usageError{stacktraceHelp}
	}
	// Refused before anything is read or opened: the storage must not be
	// touched by a start that cannot do what was asked.
	cfg, unknown, err := config.Load(flags, os.Environ(), "")
	if err != nil {
		// The unknown keys are logged before the error: a misspelt key
		// often explains it.
		for _, k := range unknown {
			slog.Warn("unsupported config key ignored", "key", k)
		}
		return fmt.Errorf("load configuration: %w", err)
	}
	level := new(slog.LevelVar)
	level.Set(config.ParseLogLevel(cfg.LogLevel))
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	for _, k := range unknown {
		log.Warn("unsupported config key ignored", "key", k)
	}
	if cfg.Service.GRPCPort != nil {
		// Not refused: Qdrant's shipped configuration turns gRPC on, and
		// refusing it would refuse every Qdrant config file.
		log.Warn("the gRPC API is not served yet: nothing listens on service.grpc_port; use the REST API (QDRANT__SERVICE__GRPC_PORT=null silences this)", "grpc_port", *cfg.Service.GRPCPort)
	}
	clustered := cfg.Cluster.Enabled
	if !clustered && (flags.URI != "" || flags.Bootstrap != "") {
		log.Warn("--uri and --bootstrap need cluster.enabled (QDRANT__CLUSTER__ENABLED=true); running standalone", "uri", flags.URI, "bootstrap", flags.Bootstrap)
	}
	if flags.Reinit && !clustered {
		log.Info("--reinit has no effect without cluster mode")
	}

	if clustered && (len(flags.Snapshots) > 0 || flags.StorageSnapshot != "") {
		return usageError{"restoring snapshots at start-up (--snapshot, --storage-snapshot) is not supported on a cluster yet: restore on a standalone node; nothing was started or changed"}
	}
	opts := node.Options{SnapshotsPath: cfg.Storage.SnapshotsPath, StoragePath: cfg.Storage.StoragePath, Defaults: collectionDefaults(cfg), Logger: log, SlowQuery: cfg.Service.SlowQuery(), CollectionDefaults: nodeCollectionDefaults(cfg.Storage.Collection)}
	var n *node.Node
	if clustered {
		pc, perr := peerConfig(cfg, flags)
		if perr != nil {
			return perr
		}
		n, err = node.OpenPeer(opts, pc)
	} else {
		n, err = node.Open(opts)
	}
	if err != nil {
		if clustered {
			return fmt.Errorf("start cluster peer (storage %s): %w", cfg.Storage.StoragePath, err)
		}
		return fmt.Errorf("open storage %s: %w", cfg.Storage.StoragePath, err)
	}
	if flags.StorageSnapshot != "" {
		log.Info("restoring storage snapshot before serving", "snapshot", flags.StorageSnapshot, "force", flags.ForceSnapshot)
		if err := n.RestoreStorageSnapshotAtStart(flags.StorageSnapshot, flags.ForceSnapshot); err != nil {
			n.Close()
			return fmt.Errorf("restore --storage-snapshot %s: %w", flags.StorageSnapshot, err)
		}
	}
	for _, sp := range flags.Snapshots {
		log.Info("restoring collection snapshot before serving", "collection", sp.Collection, "snapshot", sp.Path, "force", flags.ForceSnapshot)
		if err := n.RestoreSnapshotAtStart(sp.Collection, sp.Path, flags.ForceSnapshot); err != nil {
			n.Close()
			return fmt.Errorf("restore --snapshot %s:%s: %w", sp.Path, sp.Collection, err)
		}
	}
	var clusterCfg *rest.ClusterConfig
	if clustered {
		clusterCfg = clusterTelemetry(cfg.Cluster)
	}
	srv := rest.New(n, rest.Options{
		Cluster:          clusterCfg,
		MaxRequestSizeMB: cfg.Service.MaxRequestSizeMB,
		EnableCORS:       cfg.Service.EnableCORS,
		APIKey:           cfg.Service.APIKey,
		AltAPIKey:        cfg.Service.AltAPIKey,
		ReadOnlyAPIKey:   cfg.Service.ReadOnlyAPIKey,
		Version:          version,
		Commit:           buildCommit(),
		InstanceID:       instanceID(),
		Logger:           log,
		SearchTimeout:    cfg.Storage.Performance.SearchTimeout(),
	})
	addr := net.JoinHostPort(cfg.Service.Host, strconv.Itoa(cfg.Service.HTTPPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		n.Close()
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	httpSrv := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: cfg.Service.HeaderTimeout(),
		ReadTimeout:       cfg.Service.ReadTimeout(),
		WriteTimeout:      cfg.Service.WriteTimeout(),
		IdleTimeout:       cfg.Service.IdleTimeout(),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("shoal started", "version", version, "qdrant_api", rest.APIVersion, "http", ln.Addr().String(), "storage", cfg.Storage.StoragePath,
		"auth", authMode(cfg.Service), "http_timeouts", fmt.Sprintf("header=%v read=%v write=%v idle=%v",
			cfg.Service.HeaderTimeout(), cfg.Service.ReadTimeout(), cfg.Service.WriteTimeout(), cfg.Service.IdleTimeout()))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	select {
	case err = <-serveErr:
		err = fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
		log.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = httpSrv.Shutdown(shutdownCtx)
		cancel()
	}
	if cerr := n.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err == nil {
		log.Info("shoal stopped")
	}
	return err
}

// collectionDefaults maps the storage.* sections onto the defaults of new
// collections, as Qdrant does.
func collectionDefaults(cfg *config.Config) collection.Defaults {
	h := cfg.Storage.HNSWIndex
	o := cfg.Storage.Optimizers
	d := collection.Defaults{
		Hnsw: collection.HnswConfig{
			M: uint64(h.M), EfConstruct: uint64(h.EfConstruct),
			FullScanThreshold: uint64(h.FullScanThresholdKB), MaxIndexingThreads: uint64(h.MaxIndexingThreads),
		},
		Optimizers: collection.OptimizersConfig{
			DeletedThreshold: o.DeletedThreshold, VacuumMinVectorNumber: uint64(o.VacuumMinVectorNumber),
			DefaultSegmentNumber: uint64(o.DefaultSegmentNumber), FlushIntervalSec: uint64(o.FlushIntervalSec),
			MaxSegmentSize: u64p(o.MaxSegmentSizeKB), MemmapThreshold: u64p(o.MemmapThresholdKB),
			IndexingThreshold: u64p(o.IndexingThresholdKB), MaxOptimizationThreads: u64p(o.MaxOptimizationThreads),
			PreventUnoptimized: o.PreventUnoptimized,
		},
		Wal: collection.WalConfig{
			WalCapacityMB: uint64(cfg.Storage.WAL.WALCapacityMB), WalSegmentsAhead: uint64(cfg.Storage.WAL.WALSegmentsAhead),
			WalRetainClosed: 1,
		},
		OnDiskPayload: cfg.Storage.OnDiskPayload,
	}
	if h.OnDisk {
		d.Hnsw.OnDisk = &h.OnDisk
	}
	if h.PayloadM != nil {
		d.Hnsw.PayloadM = u64p(h.PayloadM)
	}
	return d
}

func u64p(p *int) *uint64 {
	if p == nil {
		return nil
	}
	v := uint64(*p)
	return &v
}

// authMode says which keys guard the REST API, for the start-up log line.
func authMode(s config.ServiceConfig) string {
	var keys []string
	if s.APIKey != "" {
		keys = append(keys, "api_key")
	}
	if s.AltAPIKey != "" {
		keys = append(keys, "alt_api_key")
	}
	if s.ReadOnlyAPIKey != "" {
		keys = append(keys, "read_only_api_key")
	}
	if len(keys) == 0 {
		return "none (every request is allowed)"
	}
	return strings.Join(keys, ",")
}

func instanceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// nodeCollectionDefaults hands storage.collection to the node (which does
// not import internal/config); unset is 0.
func nodeCollectionDefaults(c config.CollectionDefaults) node.CollectionDefaults {
	get := func(v *int) int {
		if v == nil {
			return 0
		}
		return *v
	}
	return node.CollectionDefaults{ShardNumber: get(c.ShardNumber), ShardNumberPerNode: get(c.ShardNumberPerNode),
		ReplicationFactor: get(c.ReplicationFactor), WriteConsistencyFactor: get(c.WriteConsistencyFactor)}
}
