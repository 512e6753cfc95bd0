package wal

import (
	"fmt"
	"testing"
)

func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{256, 50 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			l := mustOpen(b, b.TempDir(), Options{})
			defer mustClose(b, l)
			data := record(1, size)
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := l.Append(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendSync(b *testing.B) {
	l := mustOpen(b, b.TempDir(), Options{})
	defer mustClose(b, l)
	data := record(1, 50<<10)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := l.Append(data); err != nil {
			b.Fatal(err)
		}
		if err := l.Sync(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendSyncParallel shows group commit: many writers that each
// append and sync share fsyncs.
func BenchmarkAppendSyncParallel(b *testing.B) {
	fsys := newFaultFS()
	l := mustOpen(b, b.TempDir(), Options{FS: fsys})
	defer mustClose(b, l)
	data := record(1, 50<<10)
	b.SetBytes(int64(len(data)))
	b.SetParallelism(16)
	before := fsys.syncs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Append(data); err != nil {
				b.Error(err)
				return
			}
			if err := l.Sync(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(fsys.syncs()-before)/float64(b.N), "fsyncs/op")
}
