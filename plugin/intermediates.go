package plugin

import (
	"bytes"
	"crypto/x509"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// withIntermediates lends a signature's own chain certificates to the trusted Fulcio
// CAs as path-building candidates. sigstore-go reads a bundle's chain only for v0.3
// bundles, but cosign's chain annotation (and containers/image) rely on it for the
// intermediate. This is safe: an intermediate in the pool is never an anchor, the
// chain must still end at a trusted root, and every CA's validity window still
// applies. Self-signed and non-CA certificates are left out; they can only be roots
// (which must come from the trust material) or noise.
func (e *evaluation) withIntermediates(material root.TrustedMaterial, untrustedChain []*x509.Certificate) root.TrustedMaterial {
	var candidates []*x509.Certificate
	for _, c := range untrustedChain {
		if c.IsCA && !selfSigned(c) {
			candidates = append(candidates, c)
		}
	}
	return &lentIntermediates{TrustedMaterial: material, candidates: candidates}
}

type lentIntermediates struct {
	root.TrustedMaterial
	candidates []*x509.Certificate
}

func (l *lentIntermediates) FulcioCertificateAuthorities() []root.CertificateAuthority {
	cas := l.TrustedMaterial.FulcioCertificateAuthorities()
	out := make([]root.CertificateAuthority, len(cas))
	for i, ca := range cas {
		fca, ok := ca.(*root.FulcioCertificateAuthority)
		if !ok {
			out[i] = ca
			continue
		}
		lent := *fca
		lent.Intermediates = append(append([]*x509.Certificate{}, fca.Intermediates...), l.candidates...)
		out[i] = &lent
	}
	return out
}

// selfSigned tells whether c is a root: self-issued (its issuer is its subject)
// and signed with its own key. The name comparison comes first because the
// signature check costs a full ECDSA verification (P-384 for Fulcio), which an
// intermediate, issued by another name, never needs.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(c) == nil
}
