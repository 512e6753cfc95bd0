//go:build linux

package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

const (
	rusageThread       = 1 // RUSAGE_THREAD
	clockThreadCPUTime = 3 // CLOCK_THREAD_CPUTIME_ID
)

func rusageSeconds(who int) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// processCPU is the CPU time of the whole process so far, in seconds.
func processCPU() float64 { return rusageSeconds(syscall.RUSAGE_SELF) }

// threadCPU is the CPU time of the calling OS thread (lock it first), from
// CLOCK_THREAD_CPUTIME_ID: nanosecond resolution, unlike getrusage.
func threadCPU() float64 {
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return rusageSeconds(rusageThread)
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}

// busyCores samples /proc/stat over d and returns how many cores were busy
// on average: the load other work put on the machine while we idled.
func busyCores(d time.Duration) float64 {
	read := func() (busy, total float64, ok bool) {
		b, err := os.ReadFile("/proc/stat")
		if err != nil {
			return 0, 0, false
		}
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		if len(f) < 5 || f[0] != "cpu" {
			return 0, 0, false
		}
		for i, s := range f[1:] {
			v, _ := strconv.ParseFloat(s, 64)
			total += v
			if i != 3 && i != 4 { // idle, iowait
				busy += v
			}
		}
		return busy, total, true
	}
	b0, t0, ok0 := read()
	time.Sleep(d)
	b1, t1, ok1 := read()
	if !ok0 || !ok1 || t1 <= t0 {
		return -1
	}
	cores := 0
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "cpu") && len(l) > 3 && l[3] >= '0' && l[3] <= '9' {
				cores++
			}
		}
	}
	return (b1 - b0) / (t1 - t0) * float64(cores)
}
