package plugin

import (
	"fmt"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

// TestMixedRequests: legacy signatures and bundles in one request are decided in
// the host's order; the first accepted one wins and later ones are not evaluated.
func TestMixedRequests(t *testing.T) {
	env := newTestEnv(t)
	leaf := env.leaf(t, fixture.GitHubReusableWorkflow())
	otherDigest, err := fixture.ManifestDigest(fixture.OCIManifest("other"))
	if err != nil {
		t.Fatal(err)
	}
	legacy := env.legacy(t, leaf, env.repo, fixture.LegacyOptions{})
	legacyOtherImage := func(t *testing.T) protocol.Signature {
		sig, err := env.in.SignLegacy(leaf, fixture.CosignPayload(env.repo, otherDigest), fixture.LegacyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return protocol.Signature{Format: protocol.FormatSigstoreJSON, MIMEType: sig.MIMEType, Payload: sig.Payload, Annotations: sig.Annotations}
	}(t)
	gitlabLegacy := env.legacy(t, env.leaf(t, fixture.GitLabCI()), env.repo, fixture.LegacyOptions{})
	bundle := env.bundle(t, leaf, env.cosignV3())
	bundleOtherImage := env.bundle(t, leaf, fixture.BundleOptions{ManifestDigest: otherDigest})
	unknown := protocol.Signature{Format: "sigstore-future", Unknown: true}

	type result struct {
		accepted bool
		reason   string // a part of the reason
	}
	for _, tc := range []struct {
		name     string
		sigs     []protocol.Signature
		formats  []any // signatureFormats; nil: both
		accepted int   // the index of the accepted signature, -1 for a rejection
		results  []result
	}{
		{
			name:     "a legacy signature before a bundle wins and the bundle is not evaluated",
			sigs:     []protocol.Signature{legacy, bundle},
			accepted: 0,
			results:  []result{{true, "accepted"}, {false, protocol.NotEvaluated}},
		},
		{
			name:     "a bundle before a legacy signature wins and the legacy one is not evaluated",
			sigs:     []protocol.Signature{bundle, legacy},
			accepted: 0,
			results:  []result{{true, "accepted"}, {false, protocol.NotEvaluated}},
		},
		{
			name:     "a rejected legacy signature leaves its reason and the bundle after it is accepted",
			sigs:     []protocol.Signature{gitlabLegacy, bundle},
			accepted: 1,
			results:  []result{{false, "matches no identity"}, {true, "accepted"}},
		},
		{
			name:     "a rejected bundle leaves its reason and the legacy signature after it is accepted",
			sigs:     []protocol.Signature{bundleOtherImage, unknown, legacy},
			accepted: 2,
			results:  []result{{false, "no subject with this manifest's sha256 digest"}, {false, `unknown signature format "sigstore-future"`}, {true, "accepted"}},
		},
		{
			name:     "when nothing is accepted every signature says why",
			sigs:     []protocol.Signature{legacyOtherImage, bundleOtherImage, unknown},
			accepted: -1,
			results:  []result{{false, "not this manifest"}, {false, "no subject with this manifest's sha256 digest"}, {false, "unknown signature format"}},
		},
		{
			name:     "signatureFormats without sigstore-bundle turns bundles off",
			sigs:     []protocol.Signature{bundle},
			formats:  []any{protocol.FormatSigstoreJSON},
			accepted: -1,
			results:  []result{{false, "signature format sigstore-bundle is turned off by signatureFormats"}},
		},
		{
			name:     "signatureFormats without sigstore-json turns legacy signatures off and a bundle still counts",
			sigs:     []protocol.Signature{legacy, bundle},
			formats:  []any{protocol.FormatSigstoreBundle},
			accepted: 1,
			results:  []result{{false, "signature format sigstore-json is turned off by signatureFormats"}, {true, "accepted"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := env.bundleConfig(map[string]any{"signedIdentity": digestOnly})
			if tc.formats != nil {
				cfg["signatureFormats"] = tc.formats
			}
			resp := evaluate(t, env.request(t, cfg, tc.sigs...))
			if len(resp.Signatures) != len(tc.sigs) {
				t.Fatalf("%d results for %d signatures", len(resp.Signatures), len(tc.sigs))
			}
			for i, want := range tc.results {
				got := resp.Signatures[i]
				if got.Index != i || got.Accepted != want.accepted || !strings.Contains(got.Reason, want.reason) {
					t.Errorf("signature %d: %+v, want accepted=%v with a reason containing %q", i, got, want.accepted, want.reason)
				}
			}
			switch {
			case tc.accepted < 0:
				if resp.Verdict != protocol.VerdictReject || resp.Accepted != nil {
					t.Fatalf("%s: %s", resp.Verdict, resp.Reason)
				}
				for i := range tc.sigs {
					if !strings.Contains(resp.Reason, fmt.Sprintf("signature %d: ", i)) {
						t.Errorf("the verdict's reason does not name signature %d: %s", i, resp.Reason)
					}
				}
			case resp.Verdict != protocol.VerdictAccept || resp.Accepted.Signature != tc.accepted || resp.Accepted.Format != tc.sigs[tc.accepted].Format:
				t.Fatalf("%s %+v: %s", resp.Verdict, resp.Accepted, resp.Reason)
			}
		})
	}
}
