package e2e

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// HeapPeak runs f while sampling the Go heap in use (runtime.ReadMemStats,
// every 2 ms) and returns how far above its level before f it went: the
// in-process measure of what reading a hostile registry's answers costs.
func HeapPeak(t testing.TB, f func()) uint64 {
	t.Helper()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base := m.HeapInuse
	var peak atomic.Uint64
	done, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	<-sampled
	return max(peak.Load(), base) - base
}
