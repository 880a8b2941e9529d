package plugin

import (
	"bytes"
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

// verified is what sigstore-go accepted: its result, and what it verified the
// signature over. Only this file makes one (runVerifier, on success), and what
// comes after verification takes nothing else: identity matching reads the leaf
// (readCertIdentity), payload parsing the payload (parseSimpleSigningPayload),
// reference binding what those return or the verified statement (bindBundle),
// as containers/image's untrusted -> unmatched -> returned payloads do.
type verified struct {
	result *verify.VerificationResult
	// leaf is the certificate sigstore-go verified the chain of (nil for a
	// key signature): the one the entity carries, read again from it.
	leaf *x509.Certificate
	// payload is the artifact the signature was verified over, for a legacy
	// signature; nil for a bundle, whose artifact is the manifest digest.
	payload []byte
	// statement is the payload of the DSSE envelope whose signature
	// sigstore-go verified (nil without one): the bytes parseInTotoStatement
	// reads by in-toto's JSON names, rather than protojson's result.Statement.
	statement []byte
}

// runVerifier is where sigstore-go decides a signature's cryptography (the
// first place of the package documentation's list): the signature over the
// payload (a legacy signature's, nil for a bundle, which is verified over the
// manifest digest, manifestArtifact), the certificate chain at the verified
// time, the transparency log entry and its time, SCTs and timestamps as opts
// require. Identities are matched by the caller (with full-match regexps), so
// the policy defaults to WithoutIdentitiesUnsafe.
func runVerifier(material root.TrustedMaterial, entity verify.SignedEntity, payload []byte, digest verify.ArtifactPolicyOption,
	opts []verify.VerifierOption, policy ...verify.PolicyOption,
) (*verified, error) {
	verifier, err := verify.NewVerifier(material, opts...)
	if err != nil {
		return nil, err
	}
	if len(policy) == 0 {
		policy = []verify.PolicyOption{verify.WithoutIdentitiesUnsafe()}
	}
	artifact := digest
	if payload != nil {
		artifact = verify.WithArtifact(bytes.NewReader(payload))
	}
	result, err := verifier.Verify(entity, verify.NewPolicy(artifact, policy...))
	if err != nil {
		return nil, err
	}
	v := &verified{result: result, payload: payload}
	content, err := entity.VerificationContent()
	if err != nil {
		return nil, err
	}
	v.leaf = content.Certificate()
	signature, err := entity.SignatureContent()
	if err != nil {
		return nil, err
	}
	if envelope := signature.EnvelopeContent(); envelope != nil {
		if v.statement, err = envelope.RawEnvelope().DecodeB64Payload(); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// certificateSignature matches the identity of the leaf certificate sigstore-go
// verified.
func (e *evaluation) certificateSignature(v *verified) (*verifiedSignature, error) {
	cert, err := readCertIdentity(v)
	if err != nil {
		return nil, rejectBecause(err, err.Error())
	}
	subject, err := matchIdentities(e.cfg.identities, cert)
	if err != nil {
		return nil, err
	}
	return &verifiedSignature{issuer: &cert.issuer, subject: &subject, time: earliest(v.result)}, nil
}

func keySignature(key *trustedKey, v *verified) *verifiedSignature {
	id := key.id
	return &verifiedSignature{publicKey: &id, time: earliest(v.result)}
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
