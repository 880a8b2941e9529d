package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An --output that is a FIFO used to hang the update forever; it is exit 2
// with a message, before the mirror is asked (none listens here).
func TestTrustedRootUpdateRefusesAFIFOOutput(t *testing.T) {
	dir := t.TempDir()
	output := filepath.Join(dir, "trusted_root.json")
	if err := syscall.Mkfifo(output, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(output, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ output, want string }{
		{output, "is not a regular file (a FIFO)"},
		{link, "is a symbolic link"},
	} {
		var stdout, stderr bytes.Buffer
		start := time.Now()
		status := Run([]string{
			"trusted-root", "update", "--mirror", "http://127.0.0.1:1", "--root", writeFile(t, "root.json", "{}"),
			"--cache-dir", filepath.Join(dir, "cache"), "--output", tc.output, "--timeout", "5s",
		}, strings.NewReader(""), &stdout, &stderr)
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("took %s", took)
		}
		if status != ExitUsage || !strings.Contains(stderr.String(), tc.want) || !strings.Contains(stderr.String(), "left unchanged") {
			t.Errorf("--output %s: exit %d, stderr %q; want 2 saying %q", tc.output, status, stderr.String(), tc.want)
		}
	}
}
