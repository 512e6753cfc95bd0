// Package config owns the typed configuration of the shoal binary, written
// exactly as a Qdrant user writes it: the same YAML sections and keys, the
// same file layering and the same QDRANT__SECTION__KEY environment variables.
//
// Load merges, later sources winning:
//
//  1. built-in defaults (Default, identical to config/config.yaml),
//  2. config/config, config/$RUN_MODE (default "development") and
//     config/local, each as .yaml or .yml relative to the working directory,
//     every one optional,
//  3. the file named by --config-path, which must exist,
//  4. QDRANT__* environment variables, "__" separating nesting levels.
//
// Every value is converted to the type of its field as soon as it is read, so
// a bad value is reported with the file (or variable) and the key it came
// from. Keys that Shoal does not know, in a file or as a QDRANT__ variable,
// are collected and returned, never fatal: a stock Qdrant config file must
// start Shoal. A known key that turns on a Qdrant feature Shoal does not have
// yet (TLS, JWT access control, audit logs...; see Unsupported) is fatal:
// silently running without it would mislead the operator.
//
// ParseFlags reads the command line with Qdrant's flag names; ParseLogLevel
// turns Qdrant's tracing filter syntax into a slog level.
//
// The package holds no global state: the environment and working directory
// are passed in, so callers and tests stay hermetic. A *Config is a plain
// value; it is safe for concurrent reads once Load has returned it.
package config
