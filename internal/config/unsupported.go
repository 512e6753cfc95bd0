package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnsupported marks a configuration that turns on a Qdrant feature Shoal
// does not have yet. Such a setting stops the server instead of being
// ignored: an operator who asks for TLS, audit logs or JWT access rules must
// not believe they are in force.
var ErrUnsupported = errors.New("configuration turns on features Shoal does not have yet")

// unbuilt is one setting that asks for a missing feature. The keys keep
// Qdrant's defaults as valid values, so a stock Qdrant configuration starts
// Shoal; only turning the feature on is refused.
type unbuilt struct {
	key  string
	on   func(c *Config) (value string, ok bool)
	what string // what Shoal lacks, and what to do instead
}

// unbuiltFeatures lists them in the order they are reported.
//
// Not listed, by judgement: service.grpc_port (Qdrant's shipped config turns
// gRPC on, so refusing it would refuse every Qdrant config file; main logs a
// warning instead), service.verify_https_client_certificate (does nothing
// without service.enable_tls, as in Qdrant), cluster.p2p.enable_tls while
// cluster.enabled is false (no peer traffic to protect, as in Qdrant), and
// performance hints Shoal may ignore without changing any answer (gpu.*,
// storage.performance.async_scorer), which are warned about as unknown keys.
var unbuiltFeatures = []unbuilt{
	{key: "service.enable_tls", on: isTrue(func(c *Config) bool { return c.Service.EnableTLS }),
		what: "Shoal does not serve HTTPS yet; set it to false and terminate TLS in a reverse proxy in front of Shoal"},
	{key: "cluster.p2p.enable_tls", on: isTrue(func(c *Config) bool { return c.Cluster.Enabled && c.Cluster.P2P.EnableTLS }),
		what: "Shoal's peer-to-peer traffic has no TLS yet; set it to false and keep the p2p port on a private network"},
	{key: "service.jwt_rbac", on: isTrue(func(c *Config) bool { return c.Service.JWTRBAC }),
		what: "Shoal has no JWT access control yet; use api_key and read_only_api_key"},
	{key: "service.hardware_reporting", on: isTrue(func(c *Config) bool { return c.Service.HardwareReporting }),
		what: "Shoal does not report hardware usage in responses yet"},
	{key: "service.metrics_port", on: func(c *Config) (string, bool) {
		if c.Service.MetricsPort == nil {
			return "", false
		}
		return fmt.Sprint(*c.Service.MetricsPort), true
	}, what: "Shoal has no separate metrics listener yet; unset it and scrape /metrics on the REST port with an API key"},
	{key: "storage.snapshots_config.snapshots_storage", on: func(c *Config) (string, bool) {
		v := c.Storage.SnapshotsConfig.SnapshotsStorage
		return v, v != "local"
	}, what: "Shoal cannot store snapshots in S3 yet; use local"},
	{key: "cluster.resharding_enabled", on: isTrue(func(c *Config) bool { return c.Cluster.ReshardingEnabled }),
		what: "Shoal has no resharding yet"},
	{key: "audit.enabled", on: isTrue(func(c *Config) bool { return c.Audit.Enabled }),
		what: "Shoal writes no audit log yet"},
	{key: "logger.on_disk.enabled", on: isTrue(func(c *Config) bool { return c.Logger.OnDisk.Enabled }),
		what: "Shoal logs to stderr only; redirect it to a file instead"},
}

func isTrue(f func(*Config) bool) func(*Config) (string, bool) {
	return func(c *Config) (string, bool) { return "true", f(c) }
}

// Unsupported reports every setting of c that turns on a feature Shoal does
// not have yet, one per line, each naming its key and environment variable.
// The error matches errors.Is(err, ErrUnsupported); nil means none.
func (c *Config) Unsupported() error {
	var lines []string
	for _, u := range unbuiltFeatures {
		if v, on := u.on(c); on {
			lines = append(lines, fmt.Sprintf("%s (%s) is %s: %s", u.key, envName(u.key), v, u.what))
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return fmt.Errorf("%w:\n  %s", ErrUnsupported, strings.Join(lines, "\n  "))
}
