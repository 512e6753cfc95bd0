package config

import (
	"errors"
	"flag"
	"reflect"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    Flags
		wantErr string // substring; empty means success
	}{
		{name: "no flags", want: Flags{}},
		{
			name: "space and equals forms",
			args: []string{"--config-path", "a.yaml", "--uri=http://n1:6335", "-bootstrap", "http://n0:6335"},
			want: Flags{ConfigPath: "a.yaml", URI: "http://n1:6335", Bootstrap: "http://n0:6335"},
		},
		{
			name: "repeatable snapshot and alias",
			args: []string{"--snapshot", "/s/a.snapshot:a", "--collection-snapshot=/s/b:c.snapshot:b", "-f"},
			want: Flags{
				Snapshots: []SnapshotSpec{
					{Path: "/s/a.snapshot", Collection: "a"},
					{Path: "/s/b:c.snapshot", Collection: "b"},
				},
				ForceSnapshot: true,
			},
		},
		{
			name: "booleans and storage snapshot",
			args: []string{"--storage-snapshot", "full.snapshot", "--disable-telemetry", "--reinit", "--stacktrace", "--force-snapshot=false", "-V"},
			want: Flags{StorageSnapshot: "full.snapshot", DisableTelemetry: true, Reinit: true, Stacktrace: true, Version: true},
		},
		{
			name: "environment fallback for uri and bootstrap",
			env:  map[string]string{"QDRANT_URI": "http://me:6335", "QDRANT_BOOTSTRAP": "http://seed:6335"},
			want: Flags{URI: "http://me:6335", Bootstrap: "http://seed:6335"},
		},
		{
			name: "flag wins over environment",
			args: []string{"--uri", "http://flag:6335"},
			env:  map[string]string{"QDRANT_URI": "http://env:6335"},
			want: Flags{URI: "http://flag:6335"},
		},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "-nope"},
		{name: "missing value", args: []string{"--config-path"}, wantErr: "config-path"},
		{name: "positional argument", args: []string{"serve"}, wantErr: `unexpected argument "serve"`},
		{name: "bad snapshot", args: []string{"--snapshot", "nocolon"}, wantErr: "PATH:NAME"},
		{name: "snapshot without name", args: []string{"--snapshot", "/a:"}, wantErr: "PATH:NAME"},
		{name: "uri without scheme", args: []string{"--uri", "n1:6335"}, wantErr: "--uri"},
		{name: "bad bootstrap from env", env: map[string]string{"QDRANT_BOOTSTRAP": "seed"}, wantErr: "QDRANT_BOOTSTRAP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFlags(tt.args, envOf(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseFlags error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFlags: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseFlags = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseFlagsHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help"} {
		t.Run(arg, func(t *testing.T) {
			_, err := ParseFlags([]string{"--uri", "http://a:1", arg}, nil)
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("ParseFlags(%s) = %v, want flag.ErrHelp", arg, err)
			}
		})
	}
}

func TestUsageDocumentsEverything(t *testing.T) {
	u := Usage()
	for _, d := range flagDefs(&Flags{}) {
		for _, n := range d.names {
			dash := "--"
			if len(n) == 1 {
				dash = "-"
			}
			if !strings.Contains(u, dash+n) {
				t.Errorf("usage does not mention %s%s", dash, n)
			}
		}
	}
	for _, w := range []string{"--help", "QDRANT_URI", "QDRANT_BOOTSTRAP", "RUN_MODE", "QDRANT__SERVICE__HTTP_PORT", "config/local.yaml"} {
		if !strings.Contains(u, w) {
			t.Errorf("usage does not mention %s", w)
		}
	}
}
