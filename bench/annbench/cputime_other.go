//go:build !linux

package main

import "time"

func processCPU() float64               { return 0 }
func threadCPU() float64                { return 0 }
func busyCores(d time.Duration) float64 { return -1 }
