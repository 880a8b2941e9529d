package plugin

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
	"github.com/policy-plugins/sigstore/protocol/strictjson"
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

// decideOne decides the request's first signature and returns its outcome.
func decideOne(t *testing.T, req *protocol.VerifyRequest) outcome {
	t.Helper()
	cfg, errs, _ := ParseConfig(req.Config)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	_, e := cfg.evaluate(&req.Image, nil)
	return e.evaluateSignature(&req.Signatures[0])
}

// TestRejectionsAreErrors: the decision path returns its rejections as errors
// that say what they are (errors.As), with the library error that caused them
// where there is one; reasonOf alone words them, and words anything else as a
// rejection too.
func TestRejectionsAreErrors(t *testing.T) {
	env := newTestEnv(t)
	other, err := newKeyFile(t)
	if err != nil {
		t.Fatal(err)
	}
	third, err := newKeyFile(t)
	if err != nil {
		t.Fatal(err)
	}
	key, err := fixture.NewKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	untrusted, err := fixture.NewInstance()
	if err != nil {
		t.Fatal(err)
	}
	gitlab := map[string]any{"issuer": gitlabIssuer, "subjectURI": gitlabURI}

	t.Run("a signature no configured key made names the keys", func(t *testing.T) {
		cfg := map[string]any{"keyPaths": []any{other.path, third.path}, "signedIdentity": digestOnly}
		for _, sig := range []protocol.Signature{
			env.legacy(t, key, env.ref, fixture.LegacyOptions{NoSET: true}),
			env.bundle(t, key, env.cosignV3()),
		} {
			var keys *notMadeByKeys
			out := decideOne(t, env.request(t, cfg, sig))
			if !errors.As(out.err, &keys) || !slices.Equal(keys.ids, []string{keyID(t, other.pair), keyID(t, third.pair)}) {
				t.Fatalf("%s: %#v", sig.Format, out.err)
			}
		}
	})
	t.Run("a malformed bundle carries the JSON error", func(t *testing.T) {
		sig := protocol.Signature{Format: protocol.FormatSigstoreBundle, Bundle: []byte(`{"mediaType": 1, "mediaType": 2}`)}
		var jsonErr *strictjson.Error
		out := decideOne(t, env.request(t, env.bundleConfig(nil), sig))
		if !errors.As(out.err, &jsonErr) {
			t.Fatalf("%#v", out.err)
		}
	})
	t.Run("an untrusted log carries sigstore-go's error", func(t *testing.T) {
		sig := env.legacy(t, env.leaf(t, fixture.GitLabCI()), env.ref, fixture.LegacyOptions{Rekor: untrusted.Rekor})
		var r *rejection
		out := decideOne(t, env.request(t, env.trustedRoot(gitlab), sig))
		if !errors.As(out.err, &r) || r.cause == nil || !strings.Contains(r.cause.Error(), "verified log entries") {
			t.Fatalf("%#v", out.err)
		}
	})
	t.Run("an identity mismatch is a rejection of its own", func(t *testing.T) {
		sig := env.legacy(t, env.leaf(t, fixture.EmailIdentity()), env.ref, fixture.LegacyOptions{})
		var r *rejection
		out := decideOne(t, env.request(t, env.trustedRoot(gitlab), sig))
		if !errors.As(out.err, &r) || r.cause != nil || out.accepted != nil {
			t.Fatalf("%#v", out.err)
		}
	})
	t.Run("anything but a rejection still rejects, and says it was unexpected", func(t *testing.T) {
		if got := reasonOf(errors.New("boom")); got != "unexpected failure: boom" {
			t.Fatal(got)
		}
	})
}
