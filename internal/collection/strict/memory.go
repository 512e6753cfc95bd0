package strict

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// ResidentMemoryPercent is the process's resident memory (VmRSS) as a
// percentage of the memory it may use: the machine's (MemTotal), or its
// cgroup's limit when lower, as Qdrant measures it. It reports false where
// /proc cannot be read (not Linux): a limit that cannot be evaluated lets
// updates through rather than becoming a limit of zero, as in Qdrant.
func ResidentMemoryPercent() (uint64, bool) {
	rss, ok := procField("/proc/self/status", "VmRSS:")
	if !ok {
		return 0, false
	}
	total, ok := procField("/proc/meminfo", "MemTotal:")
	if !ok || total == 0 {
		return 0, false
	}
	if limit, ok := cgroupLimit(); ok && limit < total {
		total = limit
	}
	return percentOf(rss, total), true
}

func percentOf(used, total uint64) uint64 {
	if total == 0 {
		return 0
	}
	return uint64(float64(used) * 100 / float64(total))
}

// procField reads a "Name:   123 kB" line of a /proc file, in bytes.
func procField(path, name string) (uint64, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	return parseProcField(data, name)
}

func parseProcField(data []byte, name string) (uint64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0, false
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, false
		}
		if len(f) > 1 && strings.EqualFold(f[1], "kB") {
			n *= 1024
		}
		return n, true
	}
	return 0, false
}

// cgroupLimit reads the memory limit of the process's cgroup (v2, then
// v1); false when there is none or it cannot be read.
func cgroupLimit() (uint64, bool) {
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(data))
		if s == "max" {
			return 0, false
		}
		if n, err := strconv.ParseUint(s, 10, 64); err == nil && n > 0 {
			return n, true
		}
	}
	return 0, false
}
