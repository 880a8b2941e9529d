package plugin

import (
	"fmt"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/verify"
)

// verifyWithKeys tries each trusted key in turn, each with its own material,
// for both formats: a signature's key hint is untrusted and chooses nothing.
// run has sigstore-go verify the signature with one key's material; then, if
// set, check decides what sigstore-go left to the plugin. u is the signature as
// sigstore-go verified it, for the explanation of a failure.
func (e *evaluation) verifyWithKeys(u *untrustedBundle, run func(*trustedKey) (*verify.VerificationResult, error),
	check func(*trustedKey, *verify.VerificationResult) string,
) (*verifiedSignature, *verify.VerificationResult, string) {
	keys := e.cfg.trust.keys
	var reasons []string
	notMade := 0
	for _, key := range keys {
		result, err := run(key)
		if err != nil {
			if notMadeByKey(err) {
				notMade++
			}
			reasons = append(reasons, explainFailure(err, key.material, u))
			continue
		}
		if check != nil {
			if reason := check(key, result); reason != "" {
				reasons = append(reasons, reason)
				continue
			}
		}
		return keySignature(key, result), result, ""
	}
	switch {
	case notMade == len(keys):
		ids := make([]string, len(keys))
		for i, key := range keys {
			ids[i] = key.id
		}
		if len(keys) == 1 {
			return nil, nil, fmt.Sprintf("signature was not made by the configured key (%s)", ids[0])
		}
		return nil, nil, fmt.Sprintf("signature was not made by any of the %d configured keys (%s)", len(keys), strings.Join(ids, ", "))
	case len(reasons) == 1:
		return nil, nil, reasons[0]
	}
	return nil, nil, fmt.Sprintf("no trusted key verifies the signature (%d keys tried; first: %s)", len(reasons), reasons[0])
}

// notMadeByKey tells whether sigstore-go refused a signature because it does
// not verify with the key it was given (one of sigstoreMessages' kind: the
// message sigstore-go wraps a failed signature check in). A log entry that
// names another key is explained as such.
func notMadeByKey(err error) bool {
	return strings.Contains(err.Error(), "failed to verify signature")
}
