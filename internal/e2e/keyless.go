package e2e

import (
	"testing"

	"github.com/policy-plugins/sigstore/internal/fixture"
)

// GitLabSubject is the URI identity of AttachGitLabKeyless's signatures: the
// fixture's GitLab CI pipeline (fixture.GitLabCI).
const GitLabSubject = "https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main"

// AttachGitLabKeyless makes a keyless signature of img by the fixture's
// GitLab CI identity (a certificate from a fresh test Fulcio, logged in its
// test Rekor) and attaches it with `cosign attach signature` in cosign's
// legacy layout, as a CI job with an OIDC token would have signed it. It
// returns the fixture instance, whose trusted root a policy must name.
func AttachGitLabKeyless(t testing.TB, img Image) *fixture.Instance {
	t.Helper()
	in, err := fixture.NewInstance()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := in.IssueLeaf(fixture.GitLabCI())
	if err != nil {
		t.Fatal(err)
	}
	sig, err := in.SignLegacy(leaf, fixture.CosignPayload(img.Repository, img.Digest), fixture.LegacyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	AttachSignature(t, img.DigestRef(), Attachment{
		Payload:          sig.Payload,
		Signature:        sig.Annotations[fixture.AnnotationSignature],
		Certificate:      []byte(sig.Annotations[fixture.AnnotationCertificate]),
		CertificateChain: []byte(sig.Annotations[fixture.AnnotationChain]),
		RekorBundle:      []byte(sig.Annotations[fixture.AnnotationBundle]),
	})
	return in
}
