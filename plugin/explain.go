package plugin

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/policy-plugins/sigstore/protocol"
)

// explainFailure turns a sigstore-go verification error into a reason an
// operator can act on, for both formats: u is the signature as sigstore-go
// verified it (a legacy signature is verified as the v0.1 bundle it becomes),
// and material the trust material it used, intermediates lent included.
// sigstore-go decided; this only re-examines the inputs to name what failed,
// where its own message is generic (a failed chain is reported as "leaf
// certificate verification failed", an untrusted SET as "0 < 1 verified log
// entries"). It runs only on the reject path, so accepting costs nothing extra.
func explainFailure(err error, material root.TrustedMaterial, u *untrustedBundle) string {
	msg := oneLine(err.Error())
	for _, m := range sigstoreMessages {
		if strings.Contains(msg, m.message) && (!m.needsLeaf || u.leaf != nil) {
			return m.explain(material, u, msg)
		}
	}
	return "verification failed: " + msg
}

// sigstoreMessages are the sigstore-go (v1.3.0) error messages explainFailure
// recognizes, each with what it then looks at. Only messages sigstore-go writes
// are matched: what follows them (a wrapped error, or Go's "%!w(<nil>)" for a
// nil one) is not.
var sigstoreMessages = []struct {
	message   string
	needsLeaf bool // certificate signatures only
	explain   func(material root.TrustedMaterial, u *untrustedBundle, msg string) string
}{
	{message: "not enough verified log entries", explain: explainLogs},
	{message: "threshold not met for verified signed & log entry integrated timestamps", explain: explainNoTime},
	{message: "leaf certificate verification failed", needsLeaf: true, explain: explainChain},
	{message: "integrated time outside certificate validity", needsLeaf: true, explain: explainIntegratedTime},
	{message: "transparency log certificate does not match", explain: func(_ root.TrustedMaterial, u *untrustedBundle, _ string) string {
		if u.leaf == nil {
			return "transparency log entry was made with another key than the trusted key"
		}
		return "transparency log entry names another certificate than the signature's"
	}},
	{message: "failed to verify signed certificate timestamp", explain: func(_ root.TrustedMaterial, _ *untrustedBundle, msg string) string {
		return "certificate has no valid signed certificate timestamp (SCT) from a trusted CT log: " + msg
	}},
	{message: "artifact does not match digest", explain: func(_ root.TrustedMaterial, u *untrustedBundle, _ string) string {
		return fmt.Sprintf("bundle's message signature is for digest %s, not this manifest", describeHashOutput(u.GetMessageSignature().GetMessageDigest()))
	}},
	{message: "digest does not match any digest in statement", explain: noSubject},
	{message: "digests does not match digests in statement", explain: noSubject},
}

func noSubject(root.TrustedMaterial, *untrustedBundle, string) string {
	return "signed statement has no subject with this manifest's sha256 digest"
}

// explainLogs says why no transparency log entry counted.
func explainLogs(material root.TrustedMaterial, u *untrustedBundle, fallback string) string {
	untrustedEntries, err := u.TlogEntries()
	if err != nil {
		return "transparency log entries: " + oneLine(err.Error())
	}
	if len(untrustedEntries) == 0 {
		return "bundle has no transparency log entry, and the signature must be in a trusted transparency log"
	}
	logs := material.RekorLogs()
	for _, entry := range untrustedEntries {
		logID := hex.EncodeToString([]byte(entry.LogKeyID()))
		if _, ok := logs[logID]; !ok {
			return fmt.Sprintf("transparency log entry is from log %s, which is not a trusted transparency log", logID)
		}
		if entry.HasInclusionPromise() {
			if err := tlog.VerifySET(entry, logs); err != nil {
				return "Rekor SET (inclusion promise) does not verify with the trusted log key: " + oneLine(err.Error())
			}
		}
	}
	return "transparency log: " + fallback
}

// explainNoTime: neither a SET nor an RFC 3161 timestamp gave a verified time;
// the timestamps are verified again to say why theirs did not count.
func explainNoTime(material root.TrustedMaterial, u *untrustedBundle, fallback string) string {
	const noTSA = "no signed time: the bundle has neither a Rekor SET from a trusted log nor an RFC 3161 timestamp"
	untrustedStamps, err := u.Timestamps()
	if err != nil || len(untrustedStamps) == 0 {
		return noTSA
	}
	_, failures, err := verify.VerifySignedTimestamp(u.Bundle, material)
	if err == nil {
		err = errors.Join(failures...)
	}
	if err == nil {
		return "no signed time: " + fallback
	}
	return "no signed time: the bundle has no Rekor SET from a trusted log, and its RFC 3161 timestamp does not verify with a trusted TSA: " + oneLine(err.Error())
}

// explainChain finds the verified time at which the chain fails and says why.
func explainChain(material root.TrustedMaterial, u *untrustedBundle, fallback string) string {
	for _, at := range u.verifiableTimes(material) {
		if !chainsAt(material, u.leaf, at) {
			return explainCertificate(material, u.leaf, at)
		}
	}
	return "certificate: " + fallback
}

func explainIntegratedTime(_ root.TrustedMaterial, u *untrustedBundle, fallback string) string {
	untrustedEntries, err := u.TlogEntries()
	if err != nil {
		return fallback
	}
	for _, entry := range untrustedEntries {
		if at := entry.IntegratedTime(); !at.IsZero() && (at.Before(u.leaf.NotBefore) || at.After(u.leaf.NotAfter)) {
			// sigstore-go compares the integratedTime even when no SET signs it.
			what := "Rekor SET time"
			if !entry.HasInclusionPromise() {
				what = "transparency log integrated time (not signed by a SET)"
			}
			return fmt.Sprintf("%s %s is outside the certificate's validity (%s to %s)",
				what, formatTime(at), formatTime(u.leaf.NotBefore), formatTime(u.leaf.NotAfter))
		}
	}
	return "verification failed: " + fallback
}

// verifiableTimes are the times sigstore-go checks the certificate at: the
// integrated times of entries with a verifying SET, and verified TSA times.
func (u *untrustedBundle) verifiableTimes(material root.TrustedMaterial) []time.Time {
	var times []time.Time
	if entries, err := u.TlogEntries(); err == nil {
		for _, entry := range entries {
			if entry.HasInclusionPromise() && tlog.VerifySET(entry, material.RekorLogs()) == nil {
				times = append(times, entry.IntegratedTime())
			}
		}
	}
	if stamps, _, err := verify.VerifySignedTimestamp(u.Bundle, material); err == nil {
		for _, ts := range stamps {
			times = append(times, ts.Time)
		}
	}
	return times
}

// chainsAt tells whether some trusted Fulcio CA verifies the leaf at a time.
func chainsAt(material root.TrustedMaterial, untrustedLeaf *x509.Certificate, at time.Time) bool {
	leaf := *untrustedLeaf
	leaf.UnhandledCriticalExtensions = withoutOID(leaf.UnhandledCriticalExtensions, cryptoutils.SANOID)
	for _, ca := range material.FulcioCertificateAuthorities() {
		if _, err := ca.Verify(&leaf, at); err == nil {
			return true
		}
	}
	return false
}

func explainCertificate(material root.TrustedMaterial, untrustedLeaf *x509.Certificate, at time.Time) string {
	leaf := *untrustedLeaf
	// sigstore-go tolerates a critical SAN holding only names Go does not parse
	// (Fulcio's otherName); do the same so the diagnosis matches its decision.
	leaf.UnhandledCriticalExtensions = withoutOID(leaf.UnhandledCriticalExtensions, cryptoutils.SANOID)
	var errs []error
	for _, ca := range material.FulcioCertificateAuthorities() {
		if _, err := ca.Verify(&leaf, at); err != nil {
			errs = append(errs, err)
		}
	}
	var invalid x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	for _, err := range errs {
		if errors.As(err, &invalid) && invalid.Reason == x509.IncompatibleUsage {
			return "certificate is not valid for code signing: it lacks the code-signing extended key usage"
		}
	}
	for _, err := range errs {
		if errors.As(err, &invalid) && invalid.Reason == x509.Expired {
			return fmt.Sprintf("certificate chain was not valid at the signing time %s: %v", formatTime(at), oneLine(err.Error()))
		}
	}
	for _, err := range errs {
		if !errors.As(err, &unknown) && !errors.As(err, &invalid) {
			return fmt.Sprintf("certificate does not verify with a trusted Fulcio CA at %s: %v", formatTime(at), oneLine(err.Error()))
		}
	}
	return "certificate does not chain to a trusted Fulcio CA (signed by unknown authority)"
}

func withoutOID(oids []asn1.ObjectIdentifier, drop asn1.ObjectIdentifier) []asn1.ObjectIdentifier {
	var out []asn1.ObjectIdentifier
	for _, oid := range oids {
		if !oid.Equal(drop) {
			out = append(out, oid)
		}
	}
	return out
}

// oneLine makes a reason one bounded line. Reasons quote certificate SANs,
// signed references and library errors about untrusted input: none of that may
// put a newline or a terminal escape into a host's log.
func oneLine(s string) string {
	return protocol.OneLine(s)
}

func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
