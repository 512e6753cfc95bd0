package main

import (
	"runtime/debug"
	"testing"
)

func TestCommitOf(t *testing.T) {
	withRev := &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123abc"}}}
	noVCS := &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "-buildvcs", Value: "false"}}}
	for _, tc := range []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		ok      bool
		want    string
	}{
		{"stamped wins", "feedbeef", withRev, true, "feedbeef"},
		{"vcs.revision", "", withRev, true, "0123abc"},
		{"unknown stamp is no stamp", "unknown", withRev, true, "0123abc"},
		{"built with -buildvcs=false", "", noVCS, true, ""},
		{"no build info", "", nil, false, ""},
	} {
		if got := commitOf(tc.stamped, tc.info, tc.ok); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
