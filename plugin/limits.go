package plugin

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/policy-plugins/sigstore/protocol"
)

// Limits that keep one verify inside what a host allows a plugin
// (containers-policy-plugin(5), INVOCATION: stdout at most 1 MiB, 30 s of wall
// time), whatever the request holds. A real image has a handful of signatures,
// each with a chain of two certificates.
const (
	// MaxSignatures is the most signatures one request may carry, both lists
	// together (protocol.MaxSignatures); a request with more is
	// INVALID_REQUEST. A thousand full verifications take a few seconds, and a
	// thousand bounded reasons fit the response.
	MaxSignatures = protocol.MaxSignatures
	// MaxChainCertificates is the most certificates a signature may carry
	// besides its leaf (cosign's chain annotation, a bundle's
	// x509CertificateChain): each is a path-building candidate, and each
	// candidate may cost a signature check.
	MaxChainCertificates = 10

	// A signature's reason is at most maxReasonBytes; when there are many
	// signatures they share reasonBudget, but each keeps minReasonBytes.
	// Encoded as JSON a reason is at most twice as long (quotes and
	// backslashes), so the response stays far below 1 MiB.
	maxReasonBytes = 1024
	minReasonBytes = 128
	reasonBudget   = 256 << 10
	// reasonRejections is how many signature rejections a reject verdict's
	// reason quotes; the signatures list has them all.
	reasonRejections = 3
)

// reasonLimit is the length each of n signature reasons may have.
func reasonLimit(n int) int {
	if n == 0 {
		return maxReasonBytes
	}
	return min(maxReasonBytes, max(minReasonBytes, reasonBudget/n))
}

// boundReason makes s a reason of at most limit bytes: invalid UTF-8 and
// characters JSON would escape at length (controls, separators) become '?',
// and a longer text is cut at a character boundary and ends with "...".
func boundReason(s string, limit int) string {
	clean := strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			return '?'
		}
		return r
	}, s)
	if len(clean) <= limit {
		return clean
	}
	const ellipsis = "..."
	cut := limit - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(clean[cut]) {
		cut--
	}
	return clean[:cut] + ellipsis
}
