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
	"syscall"
	"time"

	"github.com/shoaldb/shoal/internal/api/rest"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/config"
	"github.com/shoaldb/shoal/internal/node"
)

// version is Shoal's own version, set at build time with -ldflags.
var version = "0.1.0-dev"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "shoal:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	flags, err := config.ParseFlags(args, os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Print(config.Usage())
		return nil
	}
	if err != nil {
		return err
	}
	if flags.Version {
		fmt.Printf("shoal %s (Qdrant API %s)\n", version, rest.APIVersion)
		return nil
	}
	cfg, unknown, err := config.Load(flags, os.Getenv, "")
	if err != nil {
		return fmt.Errorf("load configuration: %w", err)
	}
	level := new(slog.LevelVar)
	level.Set(config.ParseLogLevel(cfg.LogLevel))
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	for _, k := range unknown {
		log.Warn("unsupported config key ignored", "key", k)
	}
	clustered := cfg.Cluster.Enabled
	if !clustered && (flags.URI != "" || flags.Bootstrap != "") {
		log.Warn("--uri and --bootstrap need cluster.enabled (QDRANT__CLUSTER__ENABLED=true); running standalone", "uri", flags.URI, "bootstrap", flags.Bootstrap)
	}
	if len(flags.Snapshots) > 0 || flags.StorageSnapshot != "" {
		return errors.New("recovering from snapshots (--snapshot, --storage-snapshot) is not implemented yet")
	}
	if flags.Reinit && !clustered {
		log.Info("--reinit has no effect without cluster mode")
	}

	n, err := node.Open(node.Options{StoragePath: cfg.Storage.StoragePath, Defaults: collectionDefaults(cfg), Logger: log})
	if err != nil {
		return fmt.Errorf("open storage %s: %w", cfg.Storage.StoragePath, err)
	}
	var peer *peerRuntime
	if clustered {
		if peer, err = startCluster(cfg, flags, n, log); err != nil {
			n.Close()
			return err
		}
	}
	srv := rest.New(n, rest.Options{
		MaxRequestSizeMB: cfg.Service.MaxRequestSizeMB,
		EnableCORS:       cfg.Service.EnableCORS,
		APIKey:           cfg.Service.APIKey,
		ReadOnlyAPIKey:   cfg.Service.ReadOnlyAPIKey,
		Version:          version,
		InstanceID:       instanceID(),
		Logger:           log,
	})
	addr := net.JoinHostPort(cfg.Service.Host, strconv.Itoa(cfg.Service.HTTPPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if peer != nil {
			peer.stop()
		}
		n.Close()
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	httpSrv := &http.Server{Handler: srv, ReadHeaderTimeout: 30 * time.Second}
	log.Info("shoal started", "version", version, "qdrant_api", rest.APIVersion, "http", ln.Addr().String(), "storage", cfg.Storage.StoragePath)

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
	if peer != nil {
		peer.stop()
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

func instanceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
