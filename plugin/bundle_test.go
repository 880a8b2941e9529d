package plugin

import (
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

func TestBundleImageBinding(t *testing.T) {
	env := newTestEnv(t)
	leaf := env.leaf(t, fixture.GitHubReusableWorkflow())
	otherDigest, err := fixture.ManifestDigest(fixture.OCIManifest("other"))
	if err != nil {
		t.Fatal(err)
	}
	signingTime := formatTime(fixture.DefaultSigningTime)
	otherRepo := "registry.example.com/team/other"
	withSLSA := func(si map[string]any) map[string]any {
		return map[string]any{"predicateTypes": []any{cosignSignPredicate, slsaProvenance}, "signedIdentity": si}
	}
	matchRepository := map[string]any{"type": "matchRepository"}
	attestation := func(subjects ...subject) fixture.BundleOptions {
		return fixture.BundleOptions{Statement: statement(t, slsaProvenance, subjects...)}
	}

	for _, tc := range []struct {
		name string
		opts fixture.BundleOptions
		cfg  map[string]any // added to the GitHub identity's trusted-root config
		verdict
	}{
		{
			name:    "a cosign v3 signature is accepted under digestOnly, naming no image",
			opts:    env.cosignV3(),
			cfg:     map[string]any{"signedIdentity": digestOnly},
			verdict: verdict{accept: true, time: signingTime},
		},
		{
			name:    "a cosign v3 signature is rejected under the default signedIdentity, with the digestOnly hint",
			opts:    env.cosignV3(),
			verdict: verdict{reason: `signature names no image, only its digest; signedIdentity matchRepoDigestOrExact needs a reference (use {"type": "digestOnly"}`},
		},
		{
			name:    "a cosign v3 signature is rejected when predicateTypes does not list its predicate",
			opts:    env.cosignV3(),
			cfg:     map[string]any{"predicateTypes": []any{slsaProvenance}, "signedIdentity": digestOnly},
			verdict: verdict{reason: "predicate type https://sigstore.dev/cosign/sign/v1, which predicateTypes does not list (https://slsa.dev/provenance/v1)"},
		},
		{
			name:    "a cosign v3 signature of another manifest is rejected",
			opts:    fixture.BundleOptions{ManifestDigest: otherDigest},
			cfg:     map[string]any{"signedIdentity": digestOnly},
			verdict: verdict{reason: "signed statement has no subject with this manifest's sha256 digest"},
		},
		{
			name:    "a cosign v3 signature whose subject names the repository is accepted under matchRepository",
			opts:    fixture.BundleOptions{ManifestDigest: env.digest, SubjectName: env.repo},
			cfg:     map[string]any{"signedIdentity": matchRepository},
			verdict: verdict{accept: true, signed: env.repo},
		},
		{
			name:    "a GitHub attestation naming the image's repository is accepted under matchRepository",
			opts:    attestation(subject{env.repo, env.digest}),
			cfg:     withSLSA(matchRepository),
			verdict: verdict{accept: true, signed: env.repo, time: signingTime},
		},
		{
			name:    "a GitHub attestation naming another repository is rejected under matchRepository",
			opts:    attestation(subject{otherRepo, env.digest}),
			cfg:     withSLSA(matchRepository),
			verdict: verdict{reason: "signature for " + otherRepo + " is not accepted for " + env.ref + " by signedIdentity matchRepository"},
		},
		{
			name:    "a GitHub attestation is rejected under the default predicateTypes",
			opts:    attestation(subject{env.repo, env.digest}),
			cfg:     map[string]any{"signedIdentity": matchRepository},
			verdict: verdict{reason: "predicate type https://slsa.dev/provenance/v1, which predicateTypes does not list (https://sigstore.dev/cosign/sign/v1)"},
		},
		{
			name:    "an attestation of another manifest is rejected",
			opts:    attestation(subject{env.repo, otherDigest}),
			cfg:     withSLSA(matchRepository),
			verdict: verdict{reason: "signed statement has no subject with this manifest's sha256 digest"},
		},
		{
			name:    "the name that counts is the one of the subject with this digest",
			opts:    attestation(subject{otherRepo, otherDigest}, subject{env.repo, env.digest}),
			cfg:     withSLSA(matchRepository),
			verdict: verdict{accept: true, signed: env.repo},
		},
		{
			name:    "a matching name on the subject with another digest does not count",
			opts:    attestation(subject{env.repo, otherDigest}, subject{otherRepo, env.digest}),
			cfg:     withSLSA(matchRepository),
			verdict: verdict{reason: "signature for " + otherRepo + " is not accepted"},
		},
		{
			name:    "a subject digest in upper-case hex binds as well",
			opts:    attestation(subject{env.repo, "sha256:" + strings.ToUpper(strings.TrimPrefix(env.digest, "sha256:"))}),
			cfg:     withSLSA(matchRepository),
			verdict: verdict{accept: true, signed: env.repo},
		},
		{
			name:    "a subject name that is not an image reference names no image",
			opts:    attestation(subject{"App Release.tar.gz", env.digest}),
			cfg:     withSLSA(matchRepository),
			verdict: verdict{reason: "subject names App Release.tar.gz are not image references: signature names no image"},
		},
		{
			name:    "a subject name that is not an image reference is accepted under digestOnly",
			opts:    attestation(subject{"App Release.tar.gz", env.digest}),
			cfg:     withSLSA(digestOnly),
			verdict: verdict{accept: true},
		},
		{
			name:    "a statement of another in-toto type is rejected",
			opts:    fixture.BundleOptions{Statement: statementWithType(t, "https://in-toto.io/Statement/v9", slsaProvenance, subject{env.repo, env.digest})},
			cfg:     withSLSA(digestOnly),
			verdict: verdict{reason: `statement._type "https://in-toto.io/Statement/v9" is not an in-toto statement type`},
		},
		{
			name:    "a DSSE payload that is not an in-toto statement is rejected",
			opts:    fixture.BundleOptions{Statement: fixture.CosignPayload(env.repo, env.digest), PayloadType: fixture.SimpleSigningMIMEType},
			cfg:     map[string]any{"signedIdentity": digestOnly},
			verdict: verdict{reason: "unsupported DSSE payload type"},
		},
		{
			name:    "a message signature over the manifest is accepted under digestOnly",
			opts:    fixture.BundleOptions{Artifact: env.manifest},
			cfg:     map[string]any{"signedIdentity": digestOnly},
			verdict: verdict{accept: true, time: signingTime},
		},
		{
			name:    "a message signature names no image",
			opts:    fixture.BundleOptions{Artifact: env.manifest},
			cfg:     map[string]any{"signedIdentity": matchRepository},
			verdict: verdict{reason: "signature names no image, only its digest; signedIdentity matchRepository needs a reference"},
		},
		{
			name:    "a message signature over other bytes is rejected",
			opts:    fixture.BundleOptions{Artifact: fixture.OCIManifest("other")},
			cfg:     map[string]any{"signedIdentity": digestOnly},
			verdict: verdict{reason: "bundle's message signature is for digest " + otherDigest + ", not this manifest"},
		},
		{
			name:    "a certificate that matches no identity is rejected",
			opts:    env.cosignV3(),
			cfg:     map[string]any{"signedIdentity": digestOnly, "identities": []any{map[string]any{"issuer": githubIssuer, "subjectURI": "https://github.com/org/other/.github/workflows/sign.yml@refs/heads/main"}}},
			verdict: verdict{reason: "matches no identity"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig := env.bundle(t, leaf, tc.opts)
			resp := evaluate(t, env.request(t, env.bundleConfig(tc.cfg), sig))
			tc.check(t, resp)
			if tc.accept && (resp.Accepted.Format != protocol.FormatSigstoreBundle || deref(resp.Accepted.Subject) != githubSigner || deref(resp.Accepted.Issuer) != githubIssuer) {
				t.Fatalf("accepted %+v", resp.Accepted)
			}
		})
	}
}
