package plugin

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/policy-plugins/sigstore/protocol"
)

// Annotations of a cosign signature layer, and its MIME type.
const (
	legacyMIMEType       = "application/vnd.dev.cosign.simplesigning.v1+json"
	annotationSignature  = "dev.cosignproject.cosign/signature"
	annotationCert       = "dev.sigstore.cosign/certificate"
	annotationChain      = "dev.sigstore.cosign/chain"
	annotationRekorSET   = "dev.sigstore.cosign/bundle"
	legacyBundleMIMEType = "application/vnd.dev.sigstore.bundle+json;version=0.1"
)

// untrustedLegacy holds what a cosign .sig layer claims, parsed but not verified.
type untrustedLegacy struct {
	payload   []byte
	signature []byte
	certs     []*x509.Certificate // leaf first, then the chain annotation's certificates
	set       *untrustedRekorSET  // nil when the annotation is absent
	// timestamps holds the RFC 3161 timestamp annotation's response, if any.
	timestamps [][]byte
}

// evaluateLegacy decides one sigstore-json signature: cryptography through
// sigstore-go (the signature becomes a v0.1 bundle: a message signature with a
// hashedrekord entry and its inclusion promise), then identity, then the payload's
// binding to this image.
func (e *evaluation) evaluateLegacy(sig *protocol.Signature) outcome {
	if sig.MIMEType != legacyMIMEType {
		return reject("unexpected MIME type %q for a cosign signature (want %s)", sig.MIMEType, legacyMIMEType)
	}
	untrusted, err := parseUntrustedLegacy(sig, e.cfg.trust.keys == nil)
	if err != nil {
		return outcome{err: err}
	}
	var (
		signer *verifiedSignature
		v      *verified
	)
	if e.cfg.trust.keys != nil {
		signer, v, err = e.verifyLegacyWithKeys(untrusted)
	} else {
		signer, v, err = e.verifyLegacyWithCertificate(untrusted)
	}
	if err != nil {
		return outcome{err: err}
	}
	payload, err := parseSimpleSigningPayload(v)
	if err != nil {
		return reject("invalid signed payload: %v", err)
	}
	return e.bindLegacyPayload(payload, signer)
}

func parseUntrustedLegacy(sig *protocol.Signature, needCert bool) (*untrustedLegacy, error) {
	untrustedAnnotations := sig.Annotations
	u := &untrustedLegacy{payload: sig.Payload}
	untrustedB64, ok := untrustedAnnotations[annotationSignature]
	if !ok {
		return nil, rejectf("missing %s annotation", annotationSignature)
	}
	var err error
	if u.signature, err = base64.StdEncoding.DecodeString(untrustedB64); err != nil {
		return nil, rejectf("invalid base64 in %s annotation", annotationSignature)
	}
	if untrustedSET, ok := untrustedAnnotations[annotationRekorSET]; ok {
		if u.set, err = parseUntrustedRekorSET([]byte(untrustedSET)); err != nil {
			return nil, rejectf("invalid Rekor SET in %s annotation: %v", annotationRekorSET, err)
		}
	}
	if untrustedTimestamp, ok := untrustedAnnotations[annotationRFC3161]; ok {
		ts, err := parseUntrustedRFC3161([]byte(untrustedTimestamp))
		if err != nil {
			return nil, rejectf("invalid RFC 3161 timestamp in %s annotation: %v", annotationRFC3161, err)
		}
		u.timestamps = [][]byte{ts}
	}
	if !needCert {
		// A key-based requirement ignores any certificate, as sigstoreSigned does.
		return u, nil
	}
	untrustedCertPEM, ok := untrustedAnnotations[annotationCert]
	if !ok {
		return nil, rejectf("missing %s annotation: the signature has no certificate (signed with a key?)", annotationCert)
	}
	leaves, err := cryptoutils.UnmarshalCertificatesFromPEM([]byte(untrustedCertPEM))
	switch {
	case err != nil:
		return nil, rejectf("invalid certificate in %s annotation: %v", annotationCert, err)
	case len(leaves) != 1:
		return nil, rejectf("%s annotation holds %d certificates, want exactly 1", annotationCert, len(leaves))
	}
	u.certs = leaves
	if untrustedChainPEM, ok := untrustedAnnotations[annotationChain]; ok {
		chain, err := cryptoutils.UnmarshalCertificatesFromPEM([]byte(untrustedChainPEM))
		if err != nil {
			return nil, rejectf("invalid certificate chain in %s annotation: %v", annotationChain, err)
		}
		if len(chain) > MaxChainCertificates {
			return nil, rejectf("%s annotation holds %d certificates, at most %d are accepted", annotationChain, len(chain), MaxChainCertificates)
		}
		u.certs = append(u.certs, chain...)
	}
	if u.set == nil {
		return nil, rejectf("missing %s annotation: a certificate signature needs a Rekor SET to prove when it was made", annotationRekorSET)
	}
	return u, nil
}

func (e *evaluation) verifyLegacyWithCertificate(u *untrustedLegacy) (*verifiedSignature, *verified, error) {
	entity, err := u.bundle(certificateMaterial(u.certs))
	if err != nil {
		return nil, nil, rejectBecause(err, err.Error())
	}
	// The same options as a certificate bundle: the SET is required (the log
	// entry), and an RFC 3161 timestamp, when present and from a trusted TSA, is
	// a second verified time the certificate must be valid at.
	opts := certificateBundleOptions(e.cfg.requireSCT)
	// As containers/image and cosign do, the chain annotation's last certificate
	// is taken to be the root and is never lent: a chain of the intermediate
	// alone, or in the wrong order, rejects there and so here.
	untrustedChain := u.certs[1:]
	if len(untrustedChain) > 0 {
		untrustedChain = untrustedChain[:len(untrustedChain)-1]
	}
	material := e.withIntermediates(e.cfg.trust.material, untrustedChain)
	v, err := runVerifier(material, entity, u.payload, nil, opts)
	if err != nil {
		if e.withholding(material) {
			return nil, nil, rejectBecause(err, "decided again once its chain certificates are checked")
		}
		return nil, nil, rejectBecause(err, explainFailure(err, material, &untrustedBundle{Bundle: entity, leaf: u.certs[0], chain: u.certs[1:]}))
	}
	signer, err := e.certificateSignature(v)
	return signer, v, err
}

func (e *evaluation) verifyLegacyWithKeys(u *untrustedLegacy) (*verifiedSignature, *verified, error) {
	opts := []verify.VerifierOption{verify.WithNoObserverTimestamps()}
	withLog := *u
	if e.cfg.trust.keysNeedLog {
		if u.set == nil {
			return nil, nil, rejectf("missing %s annotation: the config names a transparency log, so a Rekor SET is required", annotationRekorSET)
		}
		opts = keyBundleOptions(true)
	} else {
		withLog.set = nil // no log to check it against: sigstoreSigned ignores it too
	}
	entity, err := withLog.bundle(keyMaterial(""))
	if err != nil {
		return nil, nil, rejectBecause(err, err.Error())
	}
	return e.verifyWithKeys(&untrustedBundle{Bundle: entity}, func(key *trustedKey) (*verified, error) {
		return runVerifier(key.material, entity, u.payload, nil, opts, verify.WithKey())
	}, nil)
}

func certificateMaterial(certs []*x509.Certificate) *protobundle.VerificationMaterial {
	chain := &protocommon.X509CertificateChain{}
	for _, c := range certs {
		chain.Certificates = append(chain.Certificates, &protocommon.X509Certificate{RawBytes: c.Raw})
	}
	return &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: chain},
	}
}

func keyMaterial(hint string) *protobundle.VerificationMaterial {
	return &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: hint}},
	}
}

// bundle converts the legacy signature into a v0.1 Sigstore bundle so that one
// well-reviewed verifier checks both formats.
func (u *untrustedLegacy) bundle(material *protobundle.VerificationMaterial) (*bundle.Bundle, error) {
	if u.set != nil {
		material.TlogEntries = []*protorekor.TransparencyLogEntry{u.set.logEntry()}
	}
	digest := sha256.Sum256(u.payload)
	pb := &protobundle.Bundle{
		MediaType:            legacyBundleMIMEType,
		VerificationMaterial: material,
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: digest[:]},
			Signature:     u.signature,
		}},
	}
	pb.VerificationMaterial.TimestampVerificationData = timestampVerificationData(u.timestamps)
	// Not bundle.NewBundle: its validation checks the structure this function
	// has just built (a v0.1 media type, a message signature, at most one entry,
	// with its inclusion promise) by parsing every tlog entry, and rekor's
	// hashedrekord parser verifies the entry's signature while it parses. The
	// verifier parses and checks the entries again anyway, so validating here
	// cost a second parse and a second P-256 verification per signature (about
	// 10% of a keyless verify, BenchmarkContainersImagePolicyContext).
	return &bundle.Bundle{Bundle: pb}, nil
}
