package plugin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

// FuzzBundle feeds arbitrary bundle JSON to the plugin beside the generated
// environment's trust: whatever the bytes, evaluation must answer with a
// one-line reason and never panic. The seeds are every conformance bundle and
// a valid generated one, so mutations explore near-valid bundles.
func FuzzBundle(f *testing.F) {
	env := newTestEnv(f)
	good := env.bundle(f, env.leaf(f, fixture.GitHubReusableWorkflow()), env.cosignV3())
	f.Add(string(good.Bundle))
	seeds, err := filepath.Glob(filepath.Join(conformanceDir, "*", "bundle.sigstore.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	cfg := env.bundleConfig(map[string]any{"signedIdentity": digestOnly})
	f.Fuzz(func(t *testing.T, untrusted string) {
		sig := protocol.Signature{Format: protocol.FormatSigstoreBundle, Bundle: []byte(untrusted)}
		resp := evaluate(t, env.request(t, cfg, sig))
		if reason := resp.Signatures[0].Reason; reason == "" || strings.ContainsAny(reason, "\r\n") {
			t.Fatalf("reason %q", reason)
		}
		// Only variants of the good bundle can verify, and only as its signer.
		if resp.Verdict == protocol.VerdictAccept && (deref(resp.Accepted.Subject) != githubSigner || resp.Accepted.Time == nil) {
			t.Fatalf("accepted %+v for %s", resp.Accepted, untrusted)
		}
	})
}
