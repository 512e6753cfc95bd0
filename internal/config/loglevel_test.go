package config

import (
	"log/slog"
	"testing"
)

func TestParseLogLevel(t *testing.T) {
	tests := []struct {
		in   string
		want slog.Level
	}{
		{"info", slog.LevelInfo},
		{"INFO", slog.LevelInfo},
		{"DEBUG", slog.LevelDebug},
		{"warn", slog.LevelWarn},
		{"Warning", slog.LevelWarn},
		{"error", slog.LevelError},
		{"trace", LevelTrace},
		{"off", LevelOff},
		{"TRACE,raft=info", LevelTrace},
		{"info,shoal::x=debug", slog.LevelInfo},
		{"raft=debug,warn", slog.LevelWarn},
		{" debug , h2=off ", slog.LevelDebug},
		{"raft=debug", slog.LevelInfo}, // no global directive
		{"raft", slog.LevelInfo},       // bare target, not a level
		{"[span{a=1}]=debug", slog.LevelInfo},
		{"info,debug", slog.LevelDebug}, // last global level wins
		{"4", slog.LevelDebug},
		{"", slog.LevelInfo},
		{"loud", slog.LevelInfo},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ParseLogLevel(tt.in); got != tt.want {
				t.Errorf("ParseLogLevel(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestLevelOrder(t *testing.T) {
	if !(LevelTrace < slog.LevelDebug && LevelOff > slog.LevelError) {
		t.Fatalf("LevelTrace=%v LevelOff=%v are out of order", LevelTrace, LevelOff)
	}
}
