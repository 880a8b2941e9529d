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
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/policy-plugins/sigstore/protocol"
)

// explainFailure turns a sigstore-go verification error (material must be the one
// the verification used, intermediates lent included) into a reason an operator
// can act on. sigstore-go decided; this only re-examines the inputs to name what
// failed, where its own message is generic (a failed chain is reported as "leaf
// certificate verification failed", an untrusted SET as "0 < 1 verified log
// entries"). It runs only on the reject path, so accepting costs nothing extra.
func explainFailure(err error, material root.TrustedMaterial, untrustedCerts []*x509.Certificate, untrustedSET *untrustedRekorSET) string {
	msg := oneLine(err.Error())
	switch {
	case strings.Contains(msg, "leaf certificate verification failed") && len(untrustedCerts) > 0 && untrustedSET != nil:
		return explainCertificate(material, untrustedCerts, time.Unix(untrustedSET.integratedTime, 0))
	case strings.Contains(msg, "not enough verified log entries") && untrustedSET != nil:
		return explainSET(material, untrustedSET, msg)
	case strings.Contains(msg, "integrated time outside certificate validity") && len(untrustedCerts) > 0 && untrustedSET != nil:
		leaf := untrustedCerts[0]
		return fmt.Sprintf("Rekor SET time %s is outside the certificate's validity (%s to %s)",
			formatTime(time.Unix(untrustedSET.integratedTime, 0)), formatTime(leaf.NotBefore), formatTime(leaf.NotAfter))
	}
	return "verification failed: " + msg
}

func explainCertificate(material root.TrustedMaterial, untrustedCerts []*x509.Certificate, at time.Time) string {
	leaf := *untrustedCerts[0]
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

func explainSET(material root.TrustedMaterial, untrustedSET *untrustedRekorSET, fallback string) string {
	logID := hex.EncodeToString(untrustedSET.logID)
	if _, ok := material.RekorLogs()[logID]; !ok {
		return fmt.Sprintf("Rekor SET is signed by log %s, which is not a trusted transparency log", logID)
	}
	entry, err := tlog.NewTlogEntry(untrustedSET.logEntry())
	if err != nil {
		return "Rekor SET entry is malformed: " + oneLine(err.Error())
	}
	if err := tlog.VerifySET(entry, material.RekorLogs()); err != nil {
		return "Rekor SET does not verify with the trusted log key: " + oneLine(err.Error())
	}
	return "transparency log: " + fallback
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
