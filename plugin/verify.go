package plugin

import (
	"crypto/x509"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// verifiedSignature is what a cryptographically verified signature says about who
// signed and when; nil fields do not apply (a key has no issuer).
type verifiedSignature struct {
	issuer    *string
	subject   *string
	publicKey *string
	time      *time.Time
}

// runVerifier is where sigstore-go decides a signature's cryptography (the
// first place of the package documentation's list): the signature, the
// certificate chain at the verified time, the transparency log entry and its
// time, SCTs and timestamps as opts require.
// Identities are matched by the caller (with full-match regexps), so the policy
// defaults to WithoutIdentitiesUnsafe.
func runVerifier(material root.TrustedMaterial, entity verify.SignedEntity, artifact verify.ArtifactPolicyOption,
	opts []verify.VerifierOption, policy ...verify.PolicyOption,
) (*verify.VerificationResult, error) {
	verifier, err := verify.NewVerifier(material, opts...)
	if err != nil {
		return nil, err
	}
	if len(policy) == 0 {
		policy = []verify.PolicyOption{verify.WithoutIdentitiesUnsafe()}
	}
	return verifier.Verify(entity, verify.NewPolicy(artifact, policy...))
}

// certificateSignature matches the identity of a leaf certificate sigstore-go has
// just verified.
func (e *evaluation) certificateSignature(verifiedLeaf *x509.Certificate, result *verify.VerificationResult) (*verifiedSignature, error) {
	cert, err := readCertIdentity(verifiedLeaf)
	if err != nil {
		return nil, rejectBecause(err, err.Error())
	}
	subject, err := matchIdentities(e.cfg.identities, cert)
	if err != nil {
		return nil, err
	}
	return &verifiedSignature{issuer: &cert.issuer, subject: &subject, time: earliest(result)}, nil
}

func keySignature(key *trustedKey, result *verify.VerificationResult) *verifiedSignature {
	id := key.id
	return &verifiedSignature{publicKey: &id, time: earliest(result)}
}

func earliest(result *verify.VerificationResult) *time.Time {
	var first *time.Time
	for _, ts := range result.VerifiedTimestamps {
		if first == nil || ts.Timestamp.Before(*first) {
			t := ts.Timestamp
			first = &t
		}
	}
	return first
}
