// Package vfstest holds the file systems that tests put under durable
// writers: MemFS, in memory, which knows what a crash keeps (only what was
// fsynced, entries included: pebble's strict MemFS), and FaultFS, a wrapper
// over any vfs.FS that injects fsync errors (once or sticky), short writes,
// a full disk (ENOSPC on write, SetFree, and on create, FailCreate) and a
// crash at the k-th fsync. Each rule takes a path matcher: the scopes in
// scope.go (WALFiles, SegmentFiles, ManifestFiles, RaftFiles,
// MetadataFiles) name the files of each durable writer; Fired counts the
// faults that hit. A "power loss" is MemFS.CrashClone: only fsynced bytes
// and entries survive.
//
// The crash-point recipe: run a workload once over FaultFS(MemFS) and
// count its fsyncs (Syncs); then for every k run it again with
// CrashAtSync(k, func(string) { clone = mem.CrashClone() }), reopen on the
// clone and check what was acknowledged before the crash is there.
//
// Only tests import this package (arch_test.go holds that). Both types are
// safe for concurrent use.
package vfstest
