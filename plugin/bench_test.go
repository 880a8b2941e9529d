package plugin

import (
	"fmt"
	"testing"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

// BenchmarkVerifyLegacyKeyless is one whole verify of one legacy keyless signature,
// in-process: config parsing and trust loading included, as in one plugin process.
func BenchmarkVerifyLegacyKeyless(b *testing.B) {
	b.Run("generated GitLab signature, trusted root with SCT", func(b *testing.B) {
		env := newTestEnv(b)
		sig := env.legacy(b, env.leaf(b, fixture.GitLabCI()), env.ref, fixture.LegacyOptions{})
		req := env.request(b, env.trustedRoot(map[string]any{"issuer": gitlabIssuer, "subjectURI": gitlabURI}), sig)
		benchmarkEvaluate(b, req)
	})
	b.Run("public-good signature, trusted root with SCT", func(b *testing.B) {
		req := publicGoodRequest(b, map[string]any{
			"trustedRootPath": abs(b, publicGood+"/trusted_root.json"),
			"identities":      []any{map[string]any{"issuer": "https://github.com/login/oauth", "subjectEmail": "mitr@redhat.com"}},
			"signedIdentity":  map[string]any{"type": "matchRepository"},
		})
		benchmarkEvaluate(b, req)
	})
	b.Run("public-good signature, containers/image style trust", func(b *testing.B) {
		req := publicGoodRequest(b, map[string]any{
			"fulcio":             map[string]any{"caPath": abs(b, publicGood+"/fulcio_v1.crt.pem"), "oidcIssuer": "https://github.com/login/oauth", "subjectEmail": "mitr@redhat.com"},
			"rekorPublicKeyPath": abs(b, publicGood+"/rekor.pub"),
			"signedIdentity":     map[string]any{"type": "matchRepository"},
		})
		benchmarkEvaluate(b, req)
	})
}

func benchmarkEvaluate(b *testing.B, req *protocol.VerifyRequest) {
	b.ReportAllocs()
	for b.Loop() {
		resp, err := Evaluate(req)
		if err != nil || resp.Verdict != protocol.VerdictAccept {
			b.Fatalf("%v %+v", err, resp)
		}
	}
}

// BenchmarkVerifyLegacyKeylessParsedConfig is BenchmarkVerifyLegacyKeyless's
// generated signature with the config parsed once, as by a long-lived host:
// the difference between the two is the trust material's parsing.
func BenchmarkVerifyLegacyKeylessParsedConfig(b *testing.B) {
	env := newTestEnv(b)
	sig := env.legacy(b, env.leaf(b, fixture.GitLabCI()), env.ref, fixture.LegacyOptions{})
	req := env.request(b, env.trustedRoot(map[string]any{"issuer": gitlabIssuer, "subjectURI": gitlabURI}), sig)
	cfg, errs, _ := ParseConfig(req.Config)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	b.ReportAllocs()
	for b.Loop() {
		if resp := cfg.Evaluate(&req.Image, req.Signatures); resp.Verdict != protocol.VerdictAccept {
			b.Fatal(resp.Reason)
		}
	}
}

// BenchmarkEvaluateSignatures: one valid signature among n, first or last; the
// others are distinct entries of a valid signature of another identity, so each
// costs a full verification before it rejects. Cost should grow linearly with the
// signatures evaluated, and the first accepted signature ends the work.
func BenchmarkEvaluateSignatures(b *testing.B) {
	env := newTestEnv(b)
	legacyCfg := env.trustedRoot(map[string]any{"issuer": gitlabIssuer, "subjectURI": gitlabURI})
	legacyCfg["signedIdentity"] = map[string]any{"type": "matchRepository"}
	bundleCfg := env.bundleConfig(map[string]any{"signedIdentity": digestOnly})
	formats := []struct {
		name        string
		cfg         map[string]any
		good, other protocol.Signature
	}{
		{
			"legacy", legacyCfg,
			env.legacy(b, env.leaf(b, fixture.GitLabCI()), env.repo, fixture.LegacyOptions{}),
			env.legacy(b, env.leaf(b, fixture.EmailIdentity()), env.repo, fixture.LegacyOptions{}),
		},
		{
			"bundle", bundleCfg,
			env.bundle(b, env.leaf(b, fixture.GitHubReusableWorkflow()), env.cosignV3()),
			env.bundle(b, env.leaf(b, fixture.EmailIdentity()), env.cosignV3()),
		},
	}
	for _, f := range formats {
		for _, n := range []int{1, 10, 100} {
			for _, last := range []bool{false, true} {
				if n == 1 && last {
					continue
				}
				// Distinct entries: a copy of an entry already rejected is not
				// verified again (copies.go), and would measure nothing.
				sigs := make([]protocol.Signature, n)
				for i := range sigs {
					sigs[i] = distinctEntry(f.other, i)
				}
				position, evaluated := "first", 1
				if last {
					position, evaluated = "last", n
				}
				sigs[evaluated-1] = f.good
				req := env.request(b, f.cfg, sigs...)
				b.Run(fmt.Sprintf("%s, %d signatures, the valid one %s", f.name, n, position), func(b *testing.B) {
					benchmarkEvaluate(b, req)
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(evaluated), "ns/evaluated-signature")
				})
			}
		}
	}
}

// BenchmarkParseConfig is the per-process cost of reading a config and its
// trust files (once per verify process; see TestTrustFilesAreReadOncePerCall).
func BenchmarkParseConfig(b *testing.B) {
	env := newTestEnv(b)
	for _, tc := range []struct {
		name string
		cfg  map[string]any
	}{
		{"trusted_root.json", env.trustedRoot(map[string]any{"issuer": gitlabIssuer, "subjectURI": gitlabURI})},
		{"containers/image style fulcio.caPath and rekorPublicKeyPath", map[string]any{
			"fulcio": map[string]any{"caPath": env.fulcioRootPath}, "rekorPublicKeyPath": env.rekorKeyPath,
			"identities": []any{map[string]any{"issuer": gitlabIssuer, "subjectURI": gitlabURI}},
		}},
	} {
		raw := configJSON(b, tc.cfg)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, errs, _ := ParseConfig(raw); len(errs) > 0 {
					b.Fatal(errs)
				}
			}
		})
	}
}
