package plugin

import (
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// explainBundleFailure is explainFailure for bundles: sigstore-go decided, and
// where its message is generic this names the part that failed by looking at the
// inputs again. It runs only on the reject path.
func explainBundleFailure(err error, material root.TrustedMaterial, u *untrustedBundle) string {
	msg := oneLine(err.Error())
	switch {
	case strings.Contains(msg, "not enough verified log entries"):
		return explainBundleLogs(material, u, msg)
	case strings.Contains(msg, "threshold not met for verified signed & log entry integrated timestamps"):
		return explainNoTime(msg)
	case strings.Contains(msg, "leaf certificate verification failed") && u.leaf != nil:
		return explainBundleCertificate(material, u, msg)
	case strings.Contains(msg, "integrated time outside certificate validity") && u.leaf != nil:
		return explainIntegratedTime(u, msg)
	case strings.Contains(msg, "transparency log certificate does not match"):
		if u.leaf == nil {
			return "transparency log entry was made with another key than the trusted key"
		}
		return "transparency log entry names another certificate than the bundle's"
	case strings.Contains(msg, "failed to verify signed certificate timestamp"):
		return "certificate has no valid signed certificate timestamp (SCT) from a trusted CT log: " + msg
	case strings.Contains(msg, "artifact does not match digest"):
		return fmt.Sprintf("bundle's message signature is for digest %s, not this manifest", describeHashOutput(u.GetMessageSignature().GetMessageDigest()))
	case strings.Contains(msg, "digest does not match any digest in statement"),
		strings.Contains(msg, "digests does not match digests in statement"):
		return "signed statement has no subject with this manifest's sha256 digest"
	}
	return "verification failed: " + msg
}

// explainBundleLogs says why no transparency log entry counted.
func explainBundleLogs(material root.TrustedMaterial, u *untrustedBundle, fallback string) string {
	untrustedEntries, err := u.TlogEntries()
	if err != nil {
		return "bundle transparency log entries: " + oneLine(err.Error())
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

// explainNoTime: neither a SET nor an RFC 3161 timestamp gave a verified time.
func explainNoTime(msg string) string {
	const noTSA = "no signed time: the bundle has neither a Rekor SET from a trusted log nor an RFC 3161 timestamp"
	_, tsaErr, found := strings.Cut(msg, "; error: ")
	if !found || tsaErr == "%!w(<nil>)" {
		return noTSA
	}
	return "no signed time: the bundle has no Rekor SET from a trusted log, and its RFC 3161 timestamp does not verify with a trusted TSA: " + tsaErr
}

// explainBundleCertificate finds the verified time at which the chain fails and
// lets explainCertificate say why.
func explainBundleCertificate(material root.TrustedMaterial, u *untrustedBundle, fallback string) string {
	for _, at := range u.verifiableTimes(material) {
		if !chainsAt(material, u.leaf, at) {
			return explainCertificate(material, []*x509.Certificate{u.leaf}, at)
		}
	}
	return "certificate: " + fallback
}

func explainIntegratedTime(u *untrustedBundle, fallback string) string {
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
