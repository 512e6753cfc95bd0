package main

import "syscall"

// childAttr makes a server die with the benchmark (Linux only), so an
// interrupted run leaves no servers behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
