// Package sysinfo reads what the machine and the process look like, for
// telemetry and the resource quota: resident memory and the memory
// available to the process (its cgroup limit, else the system's), the
// usage of a file system, the OS release, whether it runs in Docker, and
// the CPU features Qdrant reports. Every reader says when it cannot tell
// (a platform without /proc, a path that cannot be read) instead of
// guessing. Functions are safe for concurrent use.
package sysinfo
