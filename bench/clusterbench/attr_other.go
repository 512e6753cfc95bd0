//go:build !linux

package main

import "syscall"

// childAttr is empty where the OS has no parent-death signal.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
