package protocol

import (
	"os"
	"runtime/debug"
)

// This file is for the project's own processes (the plugin's Serve, check):
// a limit is the process's, so the host copy a library carries leaves it
// out (hack/upstream-vendor-host.sh), as it leaves out serve.go.

// SoftMemoryLimit is the limit Serve sets for verify and check sets for
// itself.
const SoftMemoryLimit = 128 << 20

// LimitMemory sets a soft memory limit of limit bytes for a process that
// may hold a request near MaxRequestBytes, unless GOMEMLIMIT says otherwise:
// the garbage collector then runs before the heap doubles, which at that
// size is what decides the peak. It is soft: a process that needs more still
// gets it, at the cost of more collections.
func LimitMemory(limit int64) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return
	}
	debug.SetMemoryLimit(limit)
}
