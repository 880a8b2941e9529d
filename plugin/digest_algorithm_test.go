package plugin

import (
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

// TestLegacyDigestAlgorithmAsContainersImage: a cosign payload may name the
// manifest by a digest of another algorithm. The plugin decides it with
// containers/image's own manifest.MatchesDigest, so its verdict is
// containers/image's for every algorithm, whatever version is vendored
// (v5.42.1 hashes with sha256 only, so both reject a sha512 name today); the
// response's manifestDigest stays the sha256 the plugin computed, which is what
// the host compares (containers-policy-plugin(5), FAIL CLOSED).
func TestLegacyDigestAlgorithmAsContainersImage(t *testing.T) {
	m := newDiffMaterial(t)
	otherManifest := fixture.OCIManifest("other")
	for _, tc := range []struct {
		name   string
		digest string
	}{
		{"the manifest's sha256 digest", digest.SHA256.FromBytes(m.manifest).String()},
		{"the manifest's sha512 digest", digest.SHA512.FromBytes(m.manifest).String()},
		{"the manifest's sha384 digest", digest.SHA384.FromBytes(m.manifest).String()},
		{"another manifest's sha512 digest", digest.SHA512.FromBytes(otherManifest).String()},
	} {
		for _, trust := range []*diffTrust{m.certTrusts[0], m.keyTrusts[0]} {
			t.Run(tc.name+" under "+trust.name, func(t *testing.T) {
				var signer fixture.Signer = m.email
				if trust.keyMode {
					signer = m.key
				}
				sig := m.sign(t, m.env.in, signer, diffRepo, tc.digest, fixture.LegacyOptions{})
				d := newDifferential(t)
				d.writeImage(t, m.manifest, []*fixture.LegacySignature{sig})
				si := map[string]any{"type": "matchRepository"}
				requirement := map[string]any{"type": "sigstoreSigned", "signedIdentity": si}
				config := map[string]any{"signedIdentity": si}
				for k, v := range trust.fields {
					requirement[k], config[k] = v, v
				}
				ciAccepts, ciErr := d.containersImage(t, requirement, diffRepo+":1.4")
				resp := d.plugin(t, config, diffRepo+":1.4", 1)
				if got := resp.Verdict == protocol.VerdictAccept; got != ciAccepts {
					t.Fatalf("containers/image accepts=%v (%v), the plugin accepts=%v (%s)", ciAccepts, ciErr, got, resp.Reason)
				}
				if resp.ManifestDigest != m.digest {
					t.Errorf("manifestDigest %s, want the computed sha256 %s", resp.ManifestDigest, m.digest)
				}
				if !ciAccepts && !strings.Contains(resp.Signatures[0].Reason, tc.digest) {
					t.Errorf("reason %q does not name the signed digest %s", resp.Signatures[0].Reason, tc.digest)
				}
				if strings.HasPrefix(tc.digest, "sha256:") && tc.digest == m.digest && !ciAccepts {
					t.Errorf("the sha256 control case is rejected: %v", ciErr)
				}
			})
		}
	}
}
