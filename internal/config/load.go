package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// DefaultRunMode is used when RUN_MODE is unset.
const DefaultRunMode = "development"

// KeyError is a value that cannot be used for a key: wrong type, or a scalar
// where a section is expected. Source is the file or environment variable.
type KeyError struct {
	Source string
	Key    string
	Err    error
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("%s: key %q: %v", e.Source, e.Key, e.Err)
}

func (e *KeyError) Unwrap() error { return e.Err }

// Load builds the configuration from defaults, config files, the file given
// by --config-path and QDRANT__ environment variables (see the package doc),
// applies the flags that override configuration (--disable-telemetry) and
// checks the result: a setting that turns on a feature Shoal does not have
// yet is an ErrUnsupported error, a value out of range an ErrInvalid one.
//
// environ is the environment as os.Environ returns it ("KEY=value"; nil
// means an empty one) and workdir is the directory config/ is relative to
// ("" means the current directory). The returned keys are the unknown ones,
// sorted and without duplicates, reported even when err is not nil; main
// logs each once. An unknown key from a file is its dotted name
// ("storage.collection"), one from the environment the variable's name
// ("QDRANT__SERVICE__NO_SUCH_KEY").
func Load(flags Flags, environ []string, workdir string) (*Config, []string, error) {
	env := envMap(environ)
	getenv := func(k string) string { return env[k] }
	if workdir == "" {
		workdir = "."
	}
	s := newSchema()
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(s.flatValues(Default()), "."), nil); err != nil {
		return nil, nil, fmt.Errorf("load defaults: %w", err)
	}

	files, err := configFiles(flags.ConfigPath, getenv, workdir)
	if err != nil {
		return nil, nil, err
	}
	unknown := map[string]bool{}
	for _, f := range files {
		raw, err := readYAML(f.path)
		if err != nil {
			return nil, sortedKeys(unknown), fmt.Errorf("config file %s: %w", f.name, err)
		}
		clean, err := s.clean("config file "+f.name, raw, unknown)
		if err != nil {
			return nil, sortedKeys(unknown), err
		}
		if err := k.Load(confmap.Provider(clean, "."), nil); err != nil {
			return nil, sortedKeys(unknown), fmt.Errorf("config file %s: %w", f.name, err)
		}
	}

	fromEnv, err := s.fromEnv(env, unknown)
	if err != nil {
		return nil, sortedKeys(unknown), err
	}
	if err := k.Load(confmap.Provider(fromEnv, "."), nil); err != nil {
		return nil, sortedKeys(unknown), fmt.Errorf("environment: %w", err)
	}

	cfg := &Config{}
	if err := k.Unmarshal("", cfg); err != nil {
		return nil, sortedKeys(unknown), fmt.Errorf("decode configuration: %w", err)
	}
	if flags.DisableTelemetry {
		cfg.TelemetryDisabled = true
	}
	// Refusals first: "tls.cert must not be empty when TLS is enabled" would
	// send the operator after a certificate that would not help.
	if err := cfg.Unsupported(); err != nil {
		return nil, sortedKeys(unknown), err
	}
	if err := cfg.Validate(); err != nil {
		return nil, sortedKeys(unknown), err
	}
	return cfg, sortedKeys(unknown), nil
}

type configFile struct {
	name string // as shown in messages, relative to workdir when found there
	path string
}

// configFiles lists the files to merge, in order, keeping those that exist.
func configFiles(configPath string, getenv func(string) string, workdir string) ([]configFile, error) {
	runMode := getenv("RUN_MODE")
	if runMode == "" {
		runMode = DefaultRunMode
	}
	var out []configFile
	for _, base := range []string{"config", runMode, "local"} {
		name := filepath.Join("config", base)
		f, ok, err := findWithExt(workdir, name)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, f)
		}
	}
	if configPath == "" {
		return out, nil
	}
	// Like Qdrant, --config-path may name the file with or without its
	// extension; unlike Qdrant, a missing file is an error, not a warning.
	if f, ok, err := find(workdir, configPath); err != nil {
		return nil, err
	} else if ok {
		return append(out, f), nil
	}
	f, ok, err := findWithExt(workdir, configPath)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("--config-path %s: %w", configPath, os.ErrNotExist)
	}
	return append(out, f), nil
}

// findWithExt tries name.yaml then name.yml; the first file found is used.
func findWithExt(workdir, name string) (configFile, bool, error) {
	for _, ext := range []string{".yaml", ".yml"} {
		if f, ok, err := find(workdir, name+ext); err != nil || ok {
			return f, ok, err
		}
	}
	return configFile{}, false, nil
}

// find reports whether name (relative to workdir unless absolute) is an
// existing regular file. Errors other than "does not exist" are returned.
func find(workdir, name string) (configFile, bool, error) {
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(workdir, name)
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return configFile{}, false, nil
	case err != nil:
		return configFile{}, false, fmt.Errorf("config file %s: %w", name, err)
	case st.IsDir():
		return configFile{}, false, fmt.Errorf("config file %s: is a directory", name)
	}
	return configFile{name: name, path: path}, true, nil
}

// readYAML parses one file into a flat map of dotted keys. The YAML parser
// also reads JSON, so a .json --config-path works too.
func readYAML(path string) (map[string]any, error) {
	fk := koanf.New(".")
	if err := fk.Load(file.Provider(path), yaml.Parser()); err != nil {
		return nil, err
	}
	return fk.All(), nil
}

// clean checks one source's flat map against the schema. It returns the
// known leaves under their canonical keys with values converted to the
// field types, and adds the unknown keys to unknown. For an unknown subtree
// only its root is reported ("storage.collection", not every key below).
func (s *schema) clean(source string, raw map[string]any, unknown map[string]bool) (map[string]any, error) {
	out := make(map[string]any, len(raw))
	// Sorted, so that the first error reported is stable.
	keys := make([]string, 0, len(raw))
	for key := range raw {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		v := raw[key]
		if l, ok := s.byKey[key]; ok {
			if key != l.key {
				if _, both := raw[l.key]; both {
					continue // the canonical name wins over its alias
				}
			}
			val, skip, err := convert(v, l.typ)
			if err != nil {
				return nil, &KeyError{Source: source, Key: key, Err: err}
			}
			if !skip {
				out[l.key] = val
			}
			continue
		}
		if err := unbuiltSubtree(key, v); err != nil {
			return nil, err
		}
		if err := s.checkUnknown(source, key, v, unknown); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkUnknown classifies a key that is not a known leaf: a section given a
// scalar or a leaf given a mapping is a type error, anything else unknown.
func (s *schema) checkUnknown(source, key string, v any, unknown map[string]bool) error {
	if s.sections[key] {
		if m, ok := v.(map[string]any); v == nil || (ok && len(m) == 0) {
			return nil // an empty section, e.g. everything below commented out
		}
		return &KeyError{Source: source, Key: key,
			Err: fmt.Errorf("want a mapping (section), got %s", describe(v))}
	}
	parts := strings.Split(key, ".")
	for i := 1; i <= len(parts); i++ {
		prefix := strings.Join(parts[:i], ".")
		if l, ok := s.byKey[prefix]; ok {
			return &KeyError{Source: source, Key: prefix,
				Err: fmt.Errorf("want %s, got a mapping", typeName(l.typ))}
		}
		if !s.sections[prefix] {
			unknown[prefix] = true
			return nil
		}
	}
	return nil
}

// envPrefix starts every configuration variable, as in Qdrant.
const envPrefix = "QDRANT__"

// envMap turns "KEY=value" entries into a map; a later entry wins, as in a
// shell. Entries without "=" are skipped.
func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// fromEnv reads QDRANT__ variables for every known key and alias. A variable
// for the canonical name wins over one for an alias. A non-empty QDRANT__
// variable that names no known key is added to unknown under its own name,
// so that a setting given in the environment is warned about exactly as one
// given in a file; one that names a section, or a key below a scalar, is an
// error, as in a file.
func (s *schema) fromEnv(env map[string]string, unknown map[string]bool) (map[string]any, error) {
	out := map[string]any{}
	known := map[string]bool{}
	for _, l := range s.leaves {
		read := false
		for _, key := range append([]string{l.key}, l.aliases...) {
			name := envName(key)
			known[name] = true
			raw := env[name]
			if raw == "" || read {
				continue
			}
			read = true
			val, skip, err := convert(raw, l.typ)
			if err != nil {
				return nil, &KeyError{Source: "environment variable " + name, Key: l.key, Err: err}
			}
			if !skip {
				out[l.key] = val
			}
		}
	}
	names := make([]string, 0, len(env))
	for name, raw := range env {
		if strings.HasPrefix(name, envPrefix) && !known[name] && raw != "" {
			names = append(names, name)
		}
	}
	sort.Strings(names) // a stable first error
	for _, name := range names {
		key := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, envPrefix), "__", "."))
		seen := map[string]bool{}
		if err := s.checkUnknown("environment variable "+name, key, env[name], seen); err != nil {
			return nil, err
		}
		unknown[name] = true
	}
	return out, nil
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
