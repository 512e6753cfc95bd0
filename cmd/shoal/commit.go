package main

import "runtime/debug"

// commit is the git commit Shoal was built from, stamped at build time with
// -ldflags "-X main.commit=<sha>"; when empty, the commit Go recorded in
// the binary (vcs.revision, present unless built with -buildvcs=false).
var commit string

// buildCommit returns the commit GET / reports: the stamped one, else Go's
// vcs.revision, else "" (GET / then answers null, as Qdrant does when its
// build has no GIT_COMMIT_ID).
func buildCommit() string {
	info, ok := debug.ReadBuildInfo()
	return commitOf(commit, info, ok)
}

func commitOf(stamped string, info *debug.BuildInfo, ok bool) string {
	if stamped != "" && stamped != "unknown" {
		return stamped
	}
	if !ok || info == nil {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			return s.Value
		}
	}
	return ""
}
