package config

import (
	"log/slog"
	"strings"
)

const (
	// LevelTrace is below slog.LevelDebug, for Qdrant's "trace".
	LevelTrace = slog.LevelDebug - 4
	// LevelOff is above every level a logger emits, for Qdrant's "off".
	LevelOff = slog.LevelError + 1000
)

// ParseLogLevel reads a log level the way Qdrant's log_level is written: a
// plain level ("INFO", "debug", "warn", "trace", "off"), or a tracing filter
// of comma-separated directives such as "TRACE,raft=info" or
// "info,shoal::x=debug". Only the global level counts: directives naming a
// target (with "=" or a bare target name) are ignored, and the last global
// level wins. Anything unrecognised gives slog.LevelInfo; it never fails, so
// a typo in the log level never stops a node.
func ParseLogLevel(s string) slog.Level {
	level := slog.LevelInfo
	for d := range strings.SplitSeq(s, ",") {
		d = strings.TrimSpace(d)
		if d == "" || strings.ContainsAny(d, "=[") {
			continue
		}
		if l, ok := levelNamed(d); ok {
			level = l
		}
	}
	return level
}

func levelNamed(s string) (slog.Level, bool) {
	switch strings.ToLower(s) {
	case "trace", "5":
		return LevelTrace, true
	case "debug", "4":
		return slog.LevelDebug, true
	case "info", "3":
		return slog.LevelInfo, true
	case "warn", "warning", "2":
		return slog.LevelWarn, true
	case "error", "1":
		return slog.LevelError, true
	case "off", "none", "0":
		return LevelOff, true
	}
	return 0, false
}
