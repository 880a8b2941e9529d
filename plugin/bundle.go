package plugin

import (
	"github.com/policy-plugins/sigstore/protocol"
)

// evaluateBundle decides one sigstore-bundle signature (a cosign v3 signature, a
// GitHub artifact attestation, any v0.1 to v0.3 bundle): structure, then
// cryptography through sigstore-go with the manifest digest as the artifact,
// then identity, then what the verified statement says about this image.
//
// The request's mediaType (the referrer's artifact type) is informational: only
// the bundle's own mediaType says how to read it.
func (e *evaluation) evaluateBundle(sig *protocol.Signature) outcome {
	untrusted, err := parseUntrustedBundle(sig.Bundle)
	if err != nil {
		return outcome{err: err}
	}
	var (
		signer *verifiedSignature
		v      *verified
	)
	if e.cfg.trust.keys != nil {
		signer, v, err = e.verifyBundleWithKeys(untrusted)
	} else {
		signer, v, err = e.verifyBundleWithCertificate(untrusted)
	}
	if err != nil {
		return outcome{err: err}
	}
	return e.bindBundle(v, untrusted, signer)
}
