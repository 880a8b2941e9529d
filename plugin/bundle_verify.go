package plugin

import (
	"encoding/hex"
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/verify"
)

// Bundle verifier options, by trust mode. They follow what the Sigstore client
// specification requires of each kind of signature:
//
//   - A certificate is short-lived, so it is checked at a verified time: a SET
//     (inclusion promise) from a trusted log or an RFC 3161 timestamp from a
//     trusted TSA, each inside its validity window. WithObserverTimestamps
//     accepts either and returns only verified times; sigstore-go takes a log's
//     integratedTime only from an entry with a verified SET, so an inclusion
//     proof alone yields no time. A certificate signature must also be in a
//     trusted transparency log (WithTransparencyLog): the log is what makes a
//     mis-used identity visible, which is why Fulcio issues to anyone at all.
//     The current time never stands in for a signed one.
//   - A key signature under keyPath* with transparency logs in the config
//     (rekorPublicKey* or trustedRootPath) needs a log entry and a verified
//     time, as sigstoreSigned needs a SET there.
//   - A key signature with only keys configured needs neither: there is no log
//     to check an entry with, and a key has no validity window.
func certificateBundleOptions(requireSCT bool) []verify.VerifierOption {
	opts := []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1)}
	if requireSCT {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	return opts
}

func keyBundleOptions(needLog bool) []verify.VerifierOption {
	if needLog {
		return []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1)}
	}
	return []verify.VerifierOption{verify.WithNoObserverTimestamps()}
}

// manifestArtifact makes sigstore-go bind the signature to the manifest: a
// message signature's digest must equal it, and an in-toto statement must have a
// subject with it.
func (e *evaluation) manifestArtifact() (verify.ArtifactPolicyOption, error) {
	if e.manifestDigest.Algorithm() != "sha256" {
		return nil, fmt.Errorf("manifest digest %s is not sha256", e.manifestDigest)
	}
	raw, err := hex.DecodeString(e.manifestDigest.Encoded())
	if err != nil {
		return nil, fmt.Errorf("manifest digest %s: %v", e.manifestDigest, err)
	}
	return verify.WithArtifactDigest("sha256", raw), nil
}

// verifyBundleWithCertificate verifies a certificate-signed bundle against the
// config's trust material, then matches the certificate's identity.
func (e *evaluation) verifyBundleWithCertificate(u *untrustedBundle) (*verifiedSignature, *verified, error) {
	if u.GetVerificationMaterial().GetPublicKey() != nil {
		return nil, nil, rejectf("bundle is signed with a public key, but this requirement trusts certificates (identities), not keys")
	}
	artifact, err := e.manifestArtifact()
	if err != nil {
		return nil, nil, rejectBecause(err, err.Error())
	}
	material := e.withIntermediates(e.cfg.trust.material, u.chain)
	v, err := runVerifier(material, u.Bundle, nil, artifact, certificateBundleOptions(e.cfg.requireSCT))
	if err != nil {
		if e.withholding(material) {
			return nil, nil, rejectBecause(err, "decided again once its chain certificates are checked")
		}
		return nil, nil, rejectBecause(err, explainFailure(err, material, u))
	}
	if err := checkLogWindows(u, material, v.result); err != nil {
		return nil, nil, err
	}
	signer, err := e.certificateSignature(v)
	return signer, v, err
}

// verifyBundleWithKeys tries each trusted key in turn, each with its own
// material (verifyWithKeys): the bundle's key hint is untrusted and
// chooses nothing.
func (e *evaluation) verifyBundleWithKeys(u *untrustedBundle) (*verifiedSignature, *verified, error) {
	if u.GetVerificationMaterial().GetPublicKey() == nil {
		return nil, nil, rejectf("bundle is signed with a certificate, but this requirement trusts public keys (keyPath/keyData), not certificates")
	}
	artifact, err := e.manifestArtifact()
	if err != nil {
		return nil, nil, rejectBecause(err, err.Error())
	}
	var check func(*trustedKey, *verified) error
	if e.cfg.trust.keysNeedLog {
		check = func(key *trustedKey, v *verified) error {
			return checkLogWindows(u, key.material, v.result)
		}
	}
	return e.verifyWithKeys(u, func(key *trustedKey) (*verified, error) {
		return runVerifier(key.material, u.Bundle, nil, artifact, keyBundleOptions(e.cfg.trust.keysNeedLog), verify.WithKey())
	}, check)
}
