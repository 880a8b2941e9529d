package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CountingPlugin installs, as dir/name (mode 0755), a wrapper that appends
// each command it is run with to the returned log file, then runs the plugin
// at target with the same arguments: how tests count the plugin processes a
// host starts. Invocations reads the log.
func CountingPlugin(t testing.TB, dir, name, target string) (log string) {
	t.Helper()
	log = filepath.Join(t.TempDir(), "invocations")
	path := filepath.Join(dir, name)
	script := fmt.Sprintf("#!/bin/sh\necho \"$1\" >>%s\nexec %s \"$@\"\n", log, target)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o755); err != nil { // WriteFile's mode is subject to the umask
		t.Fatal(err)
	}
	return log
}

// Invocations returns the commands CountingPlugin logged so far, in the
// order they were logged, and empties the log.
func Invocations(t testing.TB, log string) []string {
	t.Helper()
	data, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.Remove(log); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Fields(string(data))
}
