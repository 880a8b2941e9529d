package plugin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

const slsaProvenance = "https://slsa.dev/provenance/v1"

// githubIdentity accepts fixture.GitHubReusableWorkflow's certificates.
var githubIdentity = map[string]any{"issuer": githubIssuer, "subjectURI": githubSigner}

// bundleSignature wraps bundle JSON as the host sends it, with the referrer's
// artifact type as mediaType.
func bundleSignature(t testing.TB, pb *protobundle.Bundle) protocol.Signature {
	t.Helper()
	data, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	return protocol.Signature{Format: protocol.FormatSigstoreBundle, MediaType: pb.GetMediaType(), Bundle: data}
}

// bundle signs a bundle with the env's instance.
func (env *testEnv) bundle(t testing.TB, signer fixture.Signer, opts fixture.BundleOptions) protocol.Signature {
	t.Helper()
	return bundleSignature(t, env.bundleProto(t, env.in, signer, opts))
}

func (env *testEnv) bundleProto(t testing.TB, in *fixture.Instance, signer fixture.Signer, opts fixture.BundleOptions) *protobundle.Bundle {
	t.Helper()
	pb, err := in.SignBundleProto(signer, opts)
	if err != nil {
		t.Fatal(err)
	}
	return pb
}

// cosignV3 is what cosign v3 signs for the env's image: its digest, no name.
func (env *testEnv) cosignV3() fixture.BundleOptions {
	return fixture.BundleOptions{ManifestDigest: env.digest}
}

// subject is one in-toto subject: a name (may be empty) and a sha256 digest.
type subject struct{ name, digest string }

// statement is an in-toto v1 statement shaped like a GitHub artifact
// attestation: SLSA provenance v1 from a GitHub Actions workflow.
func statement(t testing.TB, predicateType string, subjects ...subject) []byte {
	t.Helper()
	return statementWithType(t, "https://in-toto.io/Statement/v1", predicateType, subjects...)
}

func statementWithType(t testing.TB, statementType, predicateType string, subjects ...subject) []byte {
	t.Helper()
	var list []any
	for _, s := range subjects {
		entry := map[string]any{"digest": map[string]any{"sha256": strings.TrimPrefix(s.digest, "sha256:")}}
		if s.name != "" {
			entry["name"] = s.name
		}
		list = append(list, entry)
	}
	data, err := json.Marshal(map[string]any{
		"_type":         statementType,
		"subject":       list,
		"predicateType": predicateType,
		"predicate": map[string]any{
			"buildDefinition": map[string]any{
				"buildType":          "https://actions.github.io/buildtypes/workflow/v1",
				"externalParameters": map[string]any{"workflow": map[string]any{"ref": "refs/heads/main", "repository": "https://github.com/org/app", "path": ".github/workflows/release.yml"}},
			},
			"runDetails": map[string]any{"builder": map[string]any{"id": githubSigner}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// bundleConfig is a trusted-root config for bundles with extra settings.
func (env *testEnv) bundleConfig(extra map[string]any) map[string]any {
	cfg := env.trustedRoot(githubIdentity)
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

var digestOnly = map[string]any{"type": "digestOnly"}

// writeFile writes data into the test's temporary directory.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// verdict is what a test expects of one request: accept (with the reference
// and time, when given) or reject with a reason containing a phrase.
type verdict struct {
	accept bool
	signed string // the accepted signedReference; "" means null
	time   string // the accepted time; "" means not checked, "null" means null
	reason string // a part of signature 0's reason
}

func (v verdict) check(t *testing.T, resp *protocol.VerifyResponse) {
	t.Helper()
	if got := resp.Verdict == protocol.VerdictAccept; got != v.accept {
		t.Fatalf("verdict %s, want accept=%v: %s", resp.Verdict, v.accept, resp.Reason)
	}
	if !v.accept {
		v.checkSignature(t, resp, 0)
		return
	}
	if got := deref(resp.Accepted.SignedReference); (v.signed == "" && got != "<nil>") || (v.signed != "" && got != v.signed) {
		t.Fatalf("signedReference %s, want %q", got, v.signed)
	}
	switch got := deref(resp.Accepted.Time); {
	case v.time == "":
	case v.time == "null" && got != "<nil>", v.time != "null" && got != v.time:
		t.Fatalf("accepted.time %s, want %s", got, v.time)
	}
}

// checkSignature checks that signature i was rejected with a one-line reason
// containing v.reason.
func (v verdict) checkSignature(t *testing.T, resp *protocol.VerifyResponse, i int) {
	t.Helper()
	got := resp.Signatures[i]
	if got.Accepted || !strings.Contains(got.Reason, v.reason) {
		t.Fatalf("signature %d: accepted=%v, reason %q; want a rejection containing %q", i, got.Accepted, got.Reason, v.reason)
	}
	if strings.ContainsAny(got.Reason, "\r\n") {
		t.Fatalf("signature %d: reason is not one line: %q", i, got.Reason)
	}
}
