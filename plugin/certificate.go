package plugin

import (
	"crypto/x509"
	"fmt"

	"github.com/sigstore/fulcio/pkg/certificate"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// certIdentity is what a verified Fulcio certificate says about its signer.
type certIdentity struct {
	issuer     string
	emails     []string
	uris       []string
	otherNames []string
	extensions certificate.Extensions
}

// subjects lists every SAN value, in the order subjectRegexp tries them.
func (c *certIdentity) subjects() []string {
	all := make([]string, 0, len(c.emails)+len(c.uris)+len(c.otherNames))
	all = append(all, c.emails...)
	all = append(all, c.uris...)
	return append(all, c.otherNames...)
}

// readCertIdentity extracts the signer identity of the leaf certificate
// sigstore-go verified. A certificate whose two issuer extensions disagree, or
// that repeats one, is rejected as containers/image does: which one would a
// verifier believe?
func readCertIdentity(v *verified) (*certIdentity, error) {
	cert := v.leaf
	if cert == nil {
		return nil, fmt.Errorf("the signature was verified with a key, not a certificate")
	}
	var v1, v2 []string
	for _, e := range cert.Extensions {
		switch {
		case e.Id.Equal(certificate.OIDIssuer):
			v1 = append(v1, string(e.Value))
		case e.Id.Equal(certificate.OIDIssuerV2):
			var s string
			if err := certificate.ParseDERString(e.Value, &s); err != nil {
				return nil, fmt.Errorf("certificate issuer extension (1.3.6.1.4.1.57264.1.8): %w", err)
			}
			v2 = append(v2, s)
		}
	}
	if len(v1) > 1 || len(v2) > 1 {
		return nil, fmt.Errorf("certificate has a duplicate OIDC issuer extension")
	}
	id := &certIdentity{emails: cert.EmailAddresses}
	switch {
	case len(v1) == 1 && len(v2) == 1 && v1[0] != v2[0]:
		return nil, fmt.Errorf("certificate has inconsistent OIDC issuer extensions: %q (1.3.6.1.4.1.57264.1.1) vs %q (1.3.6.1.4.1.57264.1.8)", v1[0], v2[0])
	case len(v2) == 1:
		id.issuer = v2[0]
	case len(v1) == 1:
		id.issuer = v1[0]
	default:
		return nil, fmt.Errorf("certificate has no OIDC issuer extension")
	}
	for _, u := range cert.URIs {
		id.uris = append(id.uris, u.String())
	}
	if hasOtherNameSAN(cert) {
		name, err := cryptoutils.UnmarshalOtherNameSAN(cert.Extensions)
		if err != nil {
			return nil, fmt.Errorf("certificate otherName SAN: %w", err)
		}
		id.otherNames = []string{name}
	}
	ext, err := certificate.ParseExtensions(cert.Extensions)
	if err != nil {
		return nil, fmt.Errorf("certificate Fulcio extensions: %w", err)
	}
	id.extensions = ext
	return id, nil
}

// hasOtherNameSAN tells whether the SAN extension holds names Go's x509 parser
// leaves out (otherName is one): only then is the extension parsed again.
func hasOtherNameSAN(cert *x509.Certificate) bool {
	for _, e := range cert.Extensions {
		if e.Id.Equal(cryptoutils.SANOID) {
			parsed := len(cert.EmailAddresses) + len(cert.URIs) + len(cert.DNSNames) + len(cert.IPAddresses)
			return countGeneralNames(e.Value) > parsed
		}
	}
	return false
}
