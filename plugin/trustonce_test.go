package plugin

import (
	"testing"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

func TestTrustFilesAreReadOncePerCall(t *testing.T) {
	env := newTestEnv(t)
	reads := map[string]int{}
	original := readTrustFile
	readTrustFile = func(name string) ([]byte, error) {
		reads[name]++
		return original(name)
	}
	t.Cleanup(func() { readTrustFile = original })

	other := env.legacy(t, env.leaf(t, fixture.EmailIdentity()), env.ref, fixture.LegacyOptions{})
	gitlab := env.legacy(t, env.leaf(t, fixture.GitLabCI()), env.ref, fixture.LegacyOptions{})
	cfg := map[string]any{
		"fulcio":             map[string]any{"caPath": env.fulcioRootPath},
		"rekorPublicKeyPath": env.rekorKeyPath,
		"identities":         []any{map[string]any{"issuer": gitlabIssuer, "subjectURI": gitlabURI}},
	}
	resp := evaluate(t, env.request(t, cfg, other, other, other, gitlab))
	if resp.Verdict != protocol.VerdictAccept || resp.Accepted.Signature != 3 {
		t.Fatalf("%s: %s", resp.Verdict, resp.Reason)
	}
	if len(reads) != 2 || reads[env.fulcioRootPath] != 1 || reads[env.rekorKeyPath] != 1 {
		t.Fatalf("trust files read %v, want each once for four signatures", reads)
	}
}
