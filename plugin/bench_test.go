package plugin

import (
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
