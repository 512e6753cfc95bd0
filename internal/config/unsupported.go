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
	{key: "storage.collection.vectors.on_disk", on: isTrue(func(c *Config) bool {
		return c.Storage.Collection.Vectors.OnDisk != nil && *c.Storage.Collection.Vectors.OnDisk
	}), what: "Shoal has no default on_disk for the vectors of new collections yet; set on_disk in each collection's vector parameters"},
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

// unbuiltSubtrees are sections of Qdrant's configuration that Shoal has no
// fields for: unset (null, as Qdrant ships them) they are only warned
// about like any unknown key; given a value, they would turn on something
// Shoal does not do, and stop the server.
var unbuiltSubtrees = []struct{ prefix, what string }{
	{"storage.collection.quantization", "Shoal has no default quantization of new collections yet; set quantization_config when creating a collection"},
	{"storage.collection.strict_mode", "Shoal has no default strict mode of new collections yet; set strict_mode_config when creating a collection"},
}

// unbuiltSubtree refuses a key at or below an unbuilt subtree with a
// value other than null.
func unbuiltSubtree(key string, v any) error {
	if v == nil {
		return nil
	}
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		return nil
	}
	for _, u := range unbuiltSubtrees {
		if key == u.prefix || strings.HasPrefix(key, u.prefix+".") {
			return fmt.Errorf("%w:\n  %s (%s) is set: %s", ErrUnsupported, key, envName(key), u.what)
		}
	}
	return nil
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
