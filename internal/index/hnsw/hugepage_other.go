//go:build !linux

package hnsw

func adviseHuge([]uint32) {}
