package cli

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/internal/tuftest"
)

// TestTrustedRootUpdateExitStatus runs the command as the timer does, against a
// TUF repository on 127.0.0.1 with a test root: 0 when current (saying whether
// it changed), 1 when TUF refuses, 2 when the network fails; the file stays.
func TestTrustedRootUpdateExitStatus(t *testing.T) {
	in, err := fixture.NewInstance()
	if err != nil {
		t.Fatal(err)
	}
	first, err := in.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	repo := tuftest.New(t, first)
	dir := t.TempDir()
	rootFile := filepath.Join(dir, "root.json")
	if err := os.WriteFile(rootFile, repo.RootJSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	output := filepath.Join(dir, "etc", "trusted_root.json")
	run := func(extra ...string) (string, string, int) {
		t.Helper()
		args := append([]string{
			"trusted-root", "update", "--mirror", repo.URL(), "--root", rootFile,
			"--cache-dir", filepath.Join(dir, "cache"), "--output", output, "--timeout", "5s",
		}, extra...)
		var stdout, stderr bytes.Buffer
		status := Run(args, strings.NewReader(""), &stdout, &stderr)
		return stdout.String(), stderr.String(), status
	}

	stdout, stderr, status := run()
	if status != ExitOK || !strings.Contains(stdout, "Fulcio CA added: ") ||
		!strings.Contains(stdout, output+" is current (updated) from "+repo.URL()+": TUF timestamp version 1") {
		t.Fatalf("first update: exit %d\nstdout:\n%s\nstderr:\n%s", status, stdout, stderr)
	}
	stdout, stderr, status = run()
	if status != ExitOK || stdout != fmt.Sprintf("%s is current (unchanged) from %s: TUF timestamp version 1, expires %s\n",
		output, repo.URL(), repo.Timestamp.Signed.Expires.UTC().Format("2006-01-02T15:04:05Z")) {
		t.Fatalf("unchanged update: exit %d\nstdout:\n%s\nstderr:\n%s", status, stdout, stderr)
	}
	before, err := os.ReadFile(output)
	if err != nil {
		t.Fatal(err)
	}

	// A release whose target bytes the server then alters.
	second := bytes.Replace(first, []byte(`"mediaType"`), []byte(` "mediaType"`), 1)
	repo.Release(second)
	sum := sha256.Sum256(second)
	repo.Put(fmt.Sprintf("/targets/%x.%s", sum, tuftest.TargetName), bytes.Replace(second, []byte(" "), []byte("\t"), 1))
	stdout, stderr, status = run()
	if status != ExitRejected || stdout != "" || !strings.Contains(stderr, "update refused: ") ||
		!strings.Contains(stderr, "length/hash verification error") || !strings.Contains(stderr, output+" left unchanged") {
		t.Fatalf("tampered target: exit %d\nstdout:\n%s\nstderr:\n%s", status, stdout, stderr)
	}

	repo.SetIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "down", http.StatusInternalServerError)
		return true
	})
	stdout, stderr, status = run()
	if status != ExitUsage || stdout != "" || !strings.Contains(stderr, "http status code: 500") || !strings.Contains(stderr, output+" left unchanged") {
		t.Fatalf("server error: exit %d\nstdout:\n%s\nstderr:\n%s", status, stdout, stderr)
	}
	after, err := os.ReadFile(output)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("a failed update changed the file")
	}

	// show reads what update wrote, with its TUF status.
	var out, errOut bytes.Buffer
	if status := Run([]string{"trusted-root", "show", output}, strings.NewReader(""), &out, &errOut); status != ExitOK ||
		!strings.Contains(out.String(), "updated over TUF from "+repo.URL()) {
		t.Fatalf("show: exit %d\n%s%s", status, out.String(), errOut.String())
	}
}
