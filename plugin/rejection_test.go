package plugin

import (
	"strings"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

func TestCryptographicRejections(t *testing.T) {
	env := newTestEnv(t)
	other, err := fixture.NewInstance() // a Sigstore deployment nobody trusts
	if err != nil {
		t.Fatal(err)
	}
	gitlab := map[string]any{"issuer": gitlabIssuer, "subjectURI": gitlabURI}
	containersImageStyle := map[string]any{
		"fulcio":             map[string]any{"caPath": env.fulcioRootPath},
		"rekorPublicKeyPath": env.rekorKeyPath,
		"identities":         []any{gitlab},
	}
	leafWith := func(change func(*fixture.LeafOptions)) fixture.LeafOptions {
		opts := fixture.GitLabCI()
		change(&opts)
		return opts
	}
	signed := func(in *fixture.Instance, leaf fixture.LeafOptions, opts fixture.LegacyOptions) func(t *testing.T) protocol.Signature {
		return func(t *testing.T) protocol.Signature {
			l, err := in.IssueLeaf(leaf)
			if err != nil {
				t.Fatal(err)
			}
			return env.legacy(t, l, env.ref, opts)
		}
	}
	for _, tc := range []struct {
		name   string
		sig    func(t *testing.T) protocol.Signature
		reason string
	}{
		{
			name:   "a certificate from an untrusted Fulcio CA",
			sig:    signed(other, fixture.GitLabCI(), fixture.LegacyOptions{Rekor: env.in.Rekor}),
			reason: "certificate does not chain to a trusted Fulcio CA",
		},
		{
			name:   "a SET from an untrusted Rekor log",
			sig:    signed(env.in, fixture.GitLabCI(), fixture.LegacyOptions{Rekor: other.Rekor}),
			reason: "which is not a trusted transparency log",
		},
		{
			name:   "a SET time after the certificate expired",
			sig:    signed(env.in, fixture.GitLabCI(), fixture.LegacyOptions{IntegratedTime: fixture.DefaultSigningTime.Add(time.Hour)}),
			reason: "Rekor SET time 2026-05-24T11:11:12Z is outside the certificate's validity",
		},
		{
			name:   "a SET time before the certificate was issued",
			sig:    signed(env.in, fixture.GitLabCI(), fixture.LegacyOptions{IntegratedTime: fixture.DefaultSigningTime.Add(-time.Hour)}),
			reason: "is outside the certificate's validity",
		},
		{
			name:   "a certificate without the code-signing usage",
			sig:    signed(env.in, leafWith(func(o *fixture.LeafOptions) { o.NoCodeSigningEKU = true }), fixture.LegacyOptions{}),
			reason: "lacks the code-signing extended key usage",
		},
		{
			name:   "a certificate whose two issuer extensions disagree",
			sig:    signed(env.in, leafWith(func(o *fixture.LeafOptions) { o.IssuerV1 = "https://evil.example" }), fixture.LegacyOptions{}),
			reason: `inconsistent OIDC issuer extensions: "https://evil.example" (1.3.6.1.4.1.57264.1.1) vs "https://gitlab.com"`,
		},
		{
			name:   "a certificate without a SET",
			sig:    signed(env.in, fixture.GitLabCI(), fixture.LegacyOptions{NoSET: true}),
			reason: "missing dev.sigstore.cosign/bundle annotation",
		},
		{
			name:   "a certificate without an embedded SCT",
			sig:    signed(env.in, leafWith(func(o *fixture.LeafOptions) { o.EmbedSCT = false }), fixture.LegacyOptions{}),
			reason: "signed certificate timestamp",
		},
	} {
		t.Run(tc.name+" rejects with a reason naming it", func(t *testing.T) {
			sig := tc.sig(t)
			resp := evaluate(t, env.request(t, env.trustedRoot(gitlab), sig))
			if resp.Verdict != protocol.VerdictReject {
				t.Fatalf("accepted: %s", resp.Reason)
			}
			if !strings.Contains(resp.Signatures[0].Reason, tc.reason) {
				t.Fatalf("reason %q does not contain %q", resp.Signatures[0].Reason, tc.reason)
			}
		})
	}

	t.Run("the v1-only issuer extension of older certificates is read", func(t *testing.T) {
		sig := signed(env.in, leafWith(func(o *fixture.LeafOptions) { o.OmitIssuerV2 = true }), fixture.LegacyOptions{})(t)
		if resp := evaluate(t, env.request(t, env.trustedRoot(gitlab), sig)); resp.Verdict != protocol.VerdictAccept {
			t.Fatal(resp.Reason)
		}
	})
	t.Run("containers/image style trust needs no SCT and accepts the same certificate", func(t *testing.T) {
		sig := signed(env.in, leafWith(func(o *fixture.LeafOptions) { o.EmbedSCT = false }), fixture.LegacyOptions{})(t)
		if resp := evaluate(t, env.request(t, containersImageStyle, sig)); resp.Verdict != protocol.VerdictAccept {
			t.Fatal(resp.Reason)
		}
	})
	t.Run("containers/image style trust rejects an untrusted CA too", func(t *testing.T) {
		sig := signed(other, fixture.GitLabCI(), fixture.LegacyOptions{Rekor: env.in.Rekor})(t)
		resp := evaluate(t, env.request(t, containersImageStyle, sig))
		if resp.Verdict != protocol.VerdictReject || !strings.Contains(resp.Reason, "trusted Fulcio CA") {
			t.Fatalf("%s: %s", resp.Verdict, resp.Reason)
		}
	})
}

func TestPublicGoodRejections(t *testing.T) {
	cfg := func(email string) map[string]any {
		return map[string]any{
			"trustedRootPath": abs(t, publicGood+"/trusted_root.json"),
			"identities":      []any{map[string]any{"issuer": "https://github.com/login/oauth", "subjectEmail": email}},
			"signedIdentity":  map[string]any{"type": "matchRepository"},
		}
	}
	t.Run("another email rejects", func(t *testing.T) {
		resp := evaluate(t, publicGoodRequest(t, cfg("someone@redhat.com")))
		if resp.Verdict != protocol.VerdictReject || !strings.Contains(resp.Reason, "no email SAN someone@redhat.com") {
			t.Fatalf("%s: %s", resp.Verdict, resp.Reason)
		}
	})
	t.Run("one changed byte of the manifest rejects", func(t *testing.T) {
		req := publicGoodRequest(t, cfg("mitr@redhat.com"))
		for i := range req.Image.Manifest {
			req.Image.Manifest[i] ^= 0x01
			resp := evaluate(t, req)
			req.Image.Manifest[i] ^= 0x01
			if resp.Verdict != protocol.VerdictReject || !strings.Contains(resp.Reason, "not this manifest") {
				t.Fatalf("byte %d flipped: %s: %s", i, resp.Verdict, resp.Reason)
			}
		}
	})
	t.Run("the cosign-style repository reference rejects under the default signedIdentity", func(t *testing.T) {
		c := cfg("mitr@redhat.com")
		delete(c, "signedIdentity")
		resp := evaluate(t, publicGoodRequest(t, c))
		want := "signature for 192.168.64.2:5000/cosign-signed/fulcio-rekor-1 is not accepted for 192.168.64.2:5000/cosign-signed/fulcio-rekor-1:latest by signedIdentity matchRepoDigestOrExact"
		if resp.Verdict != protocol.VerdictReject || !strings.Contains(resp.Reason, want) {
			t.Fatalf("%s: %s", resp.Verdict, resp.Reason)
		}
	})
}
