package lint

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/policy"
	"github.com/policy-plugins/sigstore/internal/trustedroot"
)

func TestTrustedRootWarnings(t *testing.T) {
	dir := t.TempDir()
	content := []byte(`{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`)
	expires := time.Date(2030, time.January, 8, 0, 0, 0, 0, time.UTC)
	write := func(name string, data []byte) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	status := func(file string, sha string) {
		t.Helper()
		write(filepath.Base(trustedroot.StatusPath(file)), fmt.Appendf(nil,
			`{"repository":"https://tuf.example","targetSHA256":%q,"timestampVersion":7,"timestampExpires":%q}`, sha, expires.Format(time.RFC3339)))
	}
	updated := write("updated.json", content)
	status(updated, fmt.Sprintf("%x", sha256.Sum256(content)))
	replaced := write("replaced.json", content)
	status(replaced, strings.Repeat("0", 64)) // the file is no longer what update wrote
	manual := write("manual.json", content)
	missing := filepath.Join(dir, "missing.json")

	doc := fmt.Sprintf(`{"default": [{"type": "reject"}], "transports": {"docker": {
		"a.example": [{"type": "plugin", "plugin": "sigstore", "config": {"trustedRootPath": %q}}],
		"b.example": [{"type": "plugin", "plugin": "sigstore", "config": {"trustedRootPaths": [%q, %q, %q]}}],
		"c.example": [{"type": "plugin", "plugin": "other", "config": {"trustedRootPath": %q}}]}}}`,
		updated, replaced, manual, missing, missing)
	p, errs := policy.Parse([]byte(doc))
	if p == nil || len(errs) != 0 {
		t.Fatalf("policy: %v", errs)
	}
	render := func(ws []policy.Problem) string {
		var lines []string
		for _, w := range ws {
			lines = append(lines, w.Path+": "+w.Message)
		}
		return strings.Join(lines, "\n")
	}

	before := trustedRootWarnings(p, expires.Add(-time.Hour))
	if len(before) != 1 || before[0].Path != `transports.docker["b.example"][0].config.trustedRootPaths[2]` ||
		!strings.Contains(before[0].Message, "does not exist: install it with 'containers-policy-sigstore trusted-root update --output "+missing+"'") {
		t.Errorf("while the timestamp is valid, want only the missing file:\n%s", render(before))
	}
	after := trustedRootWarnings(p, expires.Add(time.Hour))
	if len(after) != 2 || after[0].Path != `transports.docker["a.example"][0].config.trustedRootPath` ||
		!strings.Contains(after[0].Message, updated+": not updated since its TUF timestamp expired at 2030-01-08T00:00:00Z") {
		t.Errorf("after the timestamp expired, want the updated file stale and the missing one:\n%s", render(after))
	}
}
