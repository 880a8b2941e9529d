package plugin

import (
	"fmt"
	"strings"
)

// verifyWithKeys tries each trusted key in turn, each with its own material,
// for both formats: a signature's key hint is untrusted and chooses nothing.
// run has sigstore-go verify the signature with one key's material; then, if
// set, check decides what sigstore-go left to the plugin. u is the signature as
// sigstore-go verified it, for the explanation of a failure.
func (e *evaluation) verifyWithKeys(u *untrustedBundle, run func(*trustedKey) (*verified, error),
	check func(*trustedKey, *verified) error,
) (*verifiedSignature, *verified, error) {
	keys := e.cfg.trust.keys
	var rejections []error
	notMade := 0
	for _, key := range keys {
		v, err := run(key)
		if err != nil {
			if notMadeByKey(err) {
				notMade++
			}
			rejections = append(rejections, rejectBecause(err, explainFailure(err, key.material, u)))
			continue
		}
		if check != nil {
			if err := check(key, v); err != nil {
				rejections = append(rejections, err)
				continue
			}
		}
		return keySignature(key, v), v, nil
	}
	switch {
	case notMade == len(keys):
		ids := make([]string, len(keys))
		for i, key := range keys {
			ids[i] = key.id
		}
		return nil, nil, &notMadeByKeys{ids: ids}
	case len(rejections) == 1:
		return nil, nil, rejections[0]
	}
	return nil, nil, rejectBecause(rejections[0], fmt.Sprintf("no trusted key verifies the signature (%d keys tried; first: %v)", len(rejections), rejections[0]))
}

// notMadeByKey tells whether sigstore-go refused a signature because it does
// not verify with the key it was given (one of sigstoreMessages' kind: the
// message sigstore-go wraps a failed signature check in). A log entry that
// names another key is explained as such.
//
// sigstore-go wraps every failed signature check in that message, including
// one whose cause it names (a message signature for another digest): such a
// cause is the reason, not the key.
func notMadeByKey(err error) bool {
	msg := err.Error()
	if !strings.Contains(msg, "failed to verify signature") {
		return false
	}
	for _, m := range sigstoreMessages {
		if strings.Contains(msg, m.message) {
			return false
		}
	}
	return true
}
