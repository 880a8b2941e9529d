package e2e

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// outerTB records the failure inParallel reports on the test's goroutine.
type outerTB struct {
	testing.TB
	msg string
}

func (o *outerTB) Fatalf(format string, args ...any) {
	o.msg = fmt.Sprintf(format, args...)
	panic(o)
}

func TestInParallelReportsGoroutineFailures(t *testing.T) {
	outer := &outerTB{TB: t}
	var ran, afterFatal atomic.Int32
	func() {
		defer func() {
			if r := recover(); r != nil && r != outer {
				panic(r)
			}
		}()
		inParallel(outer, 5, func(t testing.TB, i int) {
			ran.Add(1)
			switch i {
			case 1:
				t.Fatalf("layout %d failed", i)
				afterFatal.Add(1)
			case 3:
				t.Errorf("layout %d half failed", i)
			}
		})
	}()
	if ran.Load() != 5 || afterFatal.Load() != 0 {
		t.Errorf("%d of 5 ran, %d went on after Fatalf; want 5 and 0", ran.Load(), afterFatal.Load())
	}
	if !strings.Contains(outer.msg, "layout 1 failed") || !strings.Contains(outer.msg, "layout 3 half failed") {
		t.Errorf("inParallel reported %q, want both failures", outer.msg)
	}

	outer.msg = ""
	inParallel(outer, 3, func(t testing.TB, i int) {})
	if outer.msg != "" {
		t.Errorf("inParallel failed without a failure: %q", outer.msg)
	}
}

func TestLayoutNamespaceIsFresh(t *testing.T) {
	SkipIfShort(t)
	addr := StartRegistry(t, RegistryOptions{})
	// A layout left on the registry by another process.
	PushImage(t, addr+"/layouts/"+kebab(LayoutNames[0])+":"+layoutTag)

	first := layoutNamespace(t, addr)
	second := layoutNamespace(t, addr)
	if first != addr+"/layouts-2" || second != addr+"/layouts-3" {
		t.Errorf("namespaces %s, %s; want %[3]s/layouts-2 (layouts is on the registry), %[3]s/layouts-3", first, second, addr)
	}
	if got := kebab("IndexSignedPulledByInstanceDigest"); got != "index-signed-pulled-by-instance-digest" {
		t.Errorf("kebab = %q", got)
	}
}
