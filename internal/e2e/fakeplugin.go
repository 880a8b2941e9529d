package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Plugins for the fail-closed rules of containers-policy-plugin(5): the real
// one installed where a host finds it, and shell scripts that misbehave.

// WriteExecutable writes data as dir/name, mode 0755 whatever the umask (a
// host refuses a plugin writable by group or others).
func WriteExecutable(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// InstallPlugin copies the executable bin into dir as name, mode 0755.
func InstallPlugin(t testing.TB, dir, name, bin string) string {
	t.Helper()
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	return WriteExecutable(t, dir, name, data)
}

// fakePluginTemplate runs %s on verify, after reading the request, and
// fails any other command: a pull runs verify only (no plugin runs when
// policy.json is loaded), so a host that ran another would fail the test.
const fakePluginTemplate = `#!/bin/sh
case "$1" in
verify)
	cat >/dev/null
	%s ;;
*) exit 2 ;;
esac
`

// FakePlugin installs a shell-script plugin as dir/name that runs onVerify
// on verify.
func FakePlugin(t testing.TB, dir, name, onVerify string) string {
	t.Helper()
	return WriteExecutable(t, dir, name, fmt.Appendf(nil, fakePluginTemplate, onVerify))
}

// CrashingVerify is a FakePlugin onVerify that dies as a segfaulting plugin
// would.
const CrashingVerify = `echo "segmentation fault in verify" >&2; exit 139`

// HangingVerify is a FakePlugin onVerify that appends its PID and its
// child's to pids, and then both sleep far longer than any test: a host
// must kill the plugin's whole process group. WantDead checks the PIDs.
func HangingVerify(pids string) string {
	return `echo $$ >>` + pids + `; sleep 600 & echo $! >>` + pids + `; sleep 600`
}

// WantDead asserts that file lists n PIDs and that every one of those
// processes is gone (or a zombie left for init to reap); one still running
// is killed after the failure is recorded.
func WantDead(t testing.TB, file string, n int) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the hanging plugin never ran: %v", err)
	}
	if got := len(strings.Fields(string(data))); got != n {
		t.Errorf("%d plugin processes recorded, want %d: %q", got, n, data)
	}
	for _, f := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		stat, err := os.ReadFile("/proc/" + f + "/stat")
		if err != nil {
			continue // gone
		}
		// pid (comm) STATE ...: Z is dead, waiting to be reaped.
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i:]), ") Z") {
			continue
		}
		t.Errorf("plugin process %d is still running: %s", pid, stat)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
