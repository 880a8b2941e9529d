package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunGivesThePluginOnlyTheAllowedEnvironment(t *testing.T) {
	t.Setenv("PATH", "/usr/bin:/bin")
	t.Setenv("LANG", "C.UTF-8")
	t.Setenv("TZ", "UTC")
	t.Setenv(DebugEnv, "1")
	t.Setenv("HOME", "/root")
	t.Setenv("HTTPS_PROXY", "http://proxy.invalid")
	t.Setenv("CPS_SECRET", "do not pass")
	h, dir := installPlugin(t, "env")

	inv, err := h.run(context.Background(), filepath.Join(dir, "env"), CommandVerify, nil)
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	if err := json.Unmarshal(inv.stdout, &env); err != nil {
		t.Fatalf("plugin output %q: %v", inv.stdout, err)
	}
	want := []string{DebugEnv + "=1", "LANG=C.UTF-8", "PATH=/usr/bin:/bin", "TZ=UTC"}
	if !slices.Equal(env, want) {
		t.Errorf("plugin environment %q, want %q", env, want)
	}

	t.Run("variables the host does not have are left out, not set empty", func(t *testing.T) {
		_ = os.Unsetenv("TZ") // t.Setenv above restores it
		_ = os.Unsetenv(DebugEnv)
		inv, err := h.run(context.Background(), filepath.Join(dir, "env"), CommandVerify, nil)
		if err != nil {
			t.Fatal(err)
		}
		env = nil
		if err := json.Unmarshal(inv.stdout, &env); err != nil {
			t.Fatal(err)
		}
		if want := []string{"LANG=C.UTF-8", "PATH=/usr/bin:/bin"}; !slices.Equal(env, want) {
			t.Errorf("plugin environment %q, want %q", env, want)
		}
	})
}

func TestRunKeepsAtMost64KiBOfStderr(t *testing.T) {
	h, dir := installPlugin(t, "floods-stderr")
	inv, err := h.run(context.Background(), filepath.Join(dir, "floods-stderr"), CommandMetadata, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.stderr) != MaxStderrBytes {
		t.Errorf("kept %d bytes of stderr, want %d", len(inv.stderr), MaxStderrBytes)
	}
	if inv.exitCode != 0 || len(inv.stdout) == 0 {
		t.Errorf("exit %d, stdout %q: want the answer despite 4 MiB on stderr", inv.exitCode, inv.stdout)
	}
}

func TestTimeoutKillsTheWholeProcessGroup(t *testing.T) {
	h, dir := installPlugin(t, "parent")
	// Long enough for the plugin to start its child on a loaded machine.
	h.Timeout = 4 * time.Second
	start := time.Now()
	d, err := h.Verify(context.Background(), "parent", testVerifyRequest(acceptConfig))
	assertRejected(t, d, err, "timed out after 4s; its process group was killed")
	if elapsed := time.Since(start); elapsed > h.Timeout+pipeGrace+5*time.Second {
		t.Errorf("Verify took %s with a %s timeout", elapsed, h.Timeout)
	}
	assertGone(t, childPID(t, dir))
}

func TestProcessesLeftBehindAreKilledAndDoNotDelayTheAnswer(t *testing.T) {
	// The plugin answers and exits, leaving a child that holds its stdout.
	// Were the child waited for rather than killed, the pipe would still be
	// held after pipeGrace and the call would fail.
	h, dir := installPlugin(t, "leaves-child")
	d, err := h.Verify(context.Background(), "leaves-child", testVerifyRequest(acceptConfig))
	if err != nil || !d.Accepted {
		t.Fatalf("Verify: %+v, %v; want accepted", d, err)
	}
	assertGone(t, childPID(t, dir))
}

func TestAProcessThatLeftTheGroupAndHoldsStdoutFailsTheCall(t *testing.T) {
	// The child starts its own session, so killing the plugin's process group
	// misses it; the host gives up on the pipe after pipeGrace.
	h, dir := installPlugin(t, "escapes")
	d, err := h.Verify(context.Background(), "escapes", testVerifyRequest(acceptConfig))
	pid := childPID(t, dir)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	assertRejected(t, d, err, "a process it started outside its process group still held its stdout")
}

func childPID(t *testing.T, dir string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, childPIDFile))
	if err != nil {
		t.Fatalf("the plugin's child never started: %v", err)
	}
	pid, err := strconv.Atoi(string(data))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// assertGone waits briefly for pid to be gone (or a zombie awaiting its new
// parent, which is as dead as a process gets).
func assertGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		if stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
			if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("the plugin's child %d is still running", pid)
}
