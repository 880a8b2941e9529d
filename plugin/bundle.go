package plugin

import "github.com/policy-plugins/sigstore/protocol"

// evaluateBundle decides one sigstore-bundle signature.
//
// TODO(bundles): verify Sigstore bundles (issue: cosign v3 referrers and GitHub
// attestations). Until then every bundle is rejected with a reason, never accepted.
func (e *evaluation) evaluateBundle(sig *protocol.Signature) outcome {
	return reject("Sigstore bundles (%s) are not supported yet", sig.MediaType)
}
