package realclients

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/internal/upstreamclients"
)

// maxTreeRSSMiB bounds the peak RSS of a client's pull as wait4 reports it:
// the larger of the client's own and its plugin's. Measured: 49 MiB with the
// valid bundle alone; 304-338 MiB (395-462 in earlier runs) once the
// bundles read fill the 64 MiB budget (20, 100 or 300 referrers of 4 MiB alike), the client's own (the
// plugin's, measured apart, is 198 MiB), its copies of the bundles it read
// and of the request it encodes. Reading all 100 would hold their 400 MiB
// before encoding any.
const maxTreeRSSMiB = 600

// bigReferrersDoNotCrowdOutAValidSignature: anyone who can push to the
// repository can add referrers next to a valid signature. 100 bundles of
// 4 MiB are 400 MiB, six times what one plugin request carries; the client
// reads what fits in order (the bundles past the budget unread, by their
// descriptors' sizes), logs what it left out, sends the small valid bundle
// that comes after the ones that filled the budget, and accepts.
func bigReferrersDoNotCrowdOutAValidSignature(t *testing.T, c client) {
	s := newSetting(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, s.addr+"/team/crowded:1")
	e2e.SignBundle(t, key, img.DigestRef())
	data, _ := e2e.GetManifest(t, img.Repository, e2e.FallbackTag(img.Digest))
	valid := e2e.ParseManifest(t, data).Manifests
	if len(valid) != 1 {
		t.Fatalf("cosign listed %d referrers, want 1", len(valid))
	}
	start := time.Now()
	big := e2e.PushBigReferrers(t, img, 100)
	e2e.PutReferrersTag(t, img, slices.Concat(big[:60], valid, big[60:]))
	t.Logf("pushed 100 referrers of 4 MiB in %s", time.Since(start).Round(time.Millisecond))

	pluginUsage := measuredPlugin(t, s.plugins, upstreamclients.PluginName, upstreamclients.PluginBinary(t))
	// cosign v3's bundle names the digest only.
	policy := s.policy(t, e2e.PluginRequirement("sigstore", e2e.KeyConfig(key, "digestOnly")))
	var usage syscall.Rusage
	start = time.Now()
	o := c.pull(t, s, policy, img.Ref, false, upstreamclients.Usage(&usage))
	took := time.Since(start)
	o.wantAccepted(t, img.Manifest)

	tree := usage.Maxrss >> 10 // KiB on Linux
	plugin, pluginSecs := pluginUsage()
	t.Logf("%s: accepted in %s; peak RSS %d MiB (the larger of the client's and the plugin's, wait4); the plugin's own %d MiB, %.2f s",
		c.name, took.Round(time.Millisecond), tree, plugin, pluginSecs)
	if tree > maxTreeRSSMiB {
		t.Errorf("peak RSS %d MiB (the client or its plugin), want at most %d", tree, maxTreeRSSMiB)
	}
	if plugin == 0 || plugin > tree {
		t.Errorf("the plugin's peak RSS %d MiB: want one measured verify, within the tree's %d MiB", plugin, tree)
	}
	leftOut := "Sigstore bundle referrers of " + img.Digest + " past a full signature budget, and "
	line := logLine(o.stderr, leftOut)
	if line == "" {
		t.Fatalf("the client did not log the bundles it left out (%q):\n%s", leftOut, o.stderr)
	}
	var tooMany, tooLarge int
	_, rest, _ := strings.Cut(line, "Leaving out ")
	if _, err := fmt.Sscanf(rest, "%d Sigstore bundle referrers of "+img.Digest+" past a full signature budget, and %d that do not fit", &tooMany, &tooLarge); err != nil {
		t.Fatalf("log line %q: %v", line, err)
	}
	// 64 MiB hold 15 of them beside the valid one: 85 left out, none for
	// their number.
	if tooMany != 0 || tooLarge != 85 {
		t.Errorf("left out %d past a full budget and %d too large, want 0 and 85: %s", tooMany, tooLarge, line)
	}
}

// measuredPlugin installs target as dir/name under GNU time, which appends
// the peak RSS (KiB) and wall time of each run to a file: the plugin's own
// figures, apart from the client's. The returned function reads the largest
// of each, in MiB and seconds.
func measuredPlugin(t *testing.T, dir, name, target string) func() (rssMiB int64, seconds float64) {
	t.Helper()
	log := filepath.Join(t.TempDir(), "usage")
	script := fmt.Sprintf("#!/bin/sh\nexec /usr/bin/time -f '%%M %%e' -a -o %s %s \"$@\"\n", log, target)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o755); err != nil { // WriteFile's mode is subject to the umask
		t.Fatal(err)
	}
	return func() (int64, float64) {
		data, err := os.ReadFile(log)
		if err != nil {
			t.Fatalf("the plugin never ran under GNU time: %v", err)
		}
		var peak int64
		var longest float64
		for line := range strings.Lines(string(data)) {
			// time also writes "Command exited with non-zero status N".
			var kib int64
			var secs float64
			if n, _ := fmt.Sscanf(line, "%d %g", &kib, &secs); n == 2 {
				peak, longest = max(peak, kib>>10), max(longest, secs)
			}
		}
		return peak, longest
	}
}

// logLine is the first line of stderr holding fragment.
func logLine(stderr, fragment string) string {
	for line := range strings.Lines(stderr) {
		if strings.Contains(line, fragment) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
