package sysinfo

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"
)

// ResidentBytes returns the process's resident set size.
func ResidentBytes() (uint64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * uint64(os.Getpagesize()), true
}

// MemoryBytes returns the memory available to the process: its cgroup
// limit when one applies, else the system's total (MemTotal).
func MemoryBytes() (uint64, bool) {
	total, ok := memTotal()
	if limit, lok := cgroupLimit(); lok && (!ok || limit < total) {
		return limit, true
	}
	return total, ok
}

func memTotal() (uint64, bool) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseUint(f[0], 10, 64)
				return kb * 1024, err == nil
			}
		}
	}
	return 0, false
}

// cgroupLimit reads a cgroup v2 memory.max or a v1 limit; "max" and the
// v1 unlimited value are no limit.
func cgroupLimit() (uint64, bool) {
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n == 0 || n >= 1<<62 {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

// Disk returns the used and total bytes of the file system holding path,
// used counting everything an unprivileged writer cannot have (total minus
// available), as Qdrant's disk usage does.
func Disk(path string) (used, total uint64, ok bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, 0, false
	}
	bs := uint64(st.Bsize)
	total = uint64(st.Blocks) * bs
	avail := uint64(st.Bavail) * bs
	if total == 0 || avail > total {
		return 0, total, total != 0
	}
	return total - avail, total, true
}

// OSRelease returns the distribution id and version (os-release ID and
// VERSION_ID), else the kernel's name and release.
func OSRelease() (id, version string) {
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		s := bufio.NewScanner(bytes.NewReader(b))
		for s.Scan() {
			k, v, ok := strings.Cut(s.Text(), "=")
			if !ok {
				continue
			}
			v = strings.Trim(v, `"'`)
			switch k {
			case "ID":
				id = v
			case "VERSION_ID":
				version = v
			}
		}
		if id != "" {
			return id, version
		}
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return runtime.GOOS, ""
	}
	return unix.ByteSliceToString(u.Sysname[:]), unix.ByteSliceToString(u.Release[:])
}

// IsDocker reports whether the process runs in a Docker container.
func IsDocker() bool {
	_, err := os.Stat("/.dockerenv")
	return err == nil
}

// CPUFlags lists the CPU features Qdrant's telemetry names, comma
// separated: sse, avx, avx2, fma, avx512f on x86, neon on arm64.
func CPUFlags() string {
	var f []string
	switch runtime.GOARCH {
	case "amd64", "386":
		for _, x := range []struct {
			on   bool
			name string
		}{{cpu.X86.HasSSE2, "sse"}, {cpu.X86.HasAVX, "avx"}, {cpu.X86.HasAVX2, "avx2"}, {cpu.X86.HasFMA, "fma"}, {cpu.X86.HasAVX512F, "avx512f"}} {
			if x.on {
				f = append(f, x.name)
			}
		}
	case "arm64":
		if cpu.ARM64.HasASIMD {
			f = append(f, "neon")
		}
	}
	return strings.Join(f, ",")
}
