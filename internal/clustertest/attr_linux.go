package clustertest

import "syscall"

// childAttr makes a peer die with the test process (Linux only), so a
// crashed test leaves no servers behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
