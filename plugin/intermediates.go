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
// applies. Non-CA and self-signed certificates are left out; they can only be
// roots (which must come from the trust material) or noise.
//
// Only candidates that can be part of a chain are lent (links): the chain
// certificates are untrusted input, and each one crypto/x509 is offered may cost
// it a signature check with a key the request chose, per signature and per
// verified time.
func (e *evaluation) withIntermediates(material root.TrustedMaterial, untrustedChain []*x509.Certificate) root.TrustedMaterial {
	var candidates []*x509.Certificate
	for _, c := range untrustedChain {
		if c.IsCA {
			candidates = append(candidates, c)
		}
	}
	if len(candidates) == 0 {
		return material
	}
	return &lentIntermediates{TrustedMaterial: material, candidates: candidates, links: e.links}
}

type lentIntermediates struct {
	root.TrustedMaterial
	candidates []*x509.Certificate
	links      *chainLinks
	// cas is FulcioCertificateAuthorities' answer, which sigstore-go asks for
	// once per verified time and the explanation once more.
	cas []root.CertificateAuthority
	// withheld counts the candidates left out only because links has not
	// checked them yet (links.checking is off).
	withheld int
}

func (l *lentIntermediates) FulcioCertificateAuthorities() []root.CertificateAuthority {
	if l.cas != nil {
		return l.cas
	}
	cas := l.TrustedMaterial.FulcioCertificateAuthorities()
	out := make([]root.CertificateAuthority, len(cas))
	for i, ca := range cas {
		fca, ok := ca.(*root.FulcioCertificateAuthority)
		if !ok {
			out[i] = ca
			continue
		}
		anchored, withheld := l.links.anchored(fca, l.candidates)
		lent := *fca
		lent.Intermediates = append(append([]*x509.Certificate{}, fca.Intermediates...), anchored...)
		out[i] = &lent
		l.withheld += withheld
	}
	l.cas = out
	return out
}

// withholding tells whether a verification that failed with material may
// have failed only for want of lent candidates links has not checked yet: the
// signature is then decided again once they are (see evaluate).
func (e *evaluation) withholding(material root.TrustedMaterial) bool {
	l, ok := material.(*lentIntermediates)
	if ok && l.withheld > 0 {
		e.withheld = l.withheld
		return true
	}
	return false
}

// chainLinks prunes lent candidates for one evaluation. crypto/x509 builds a
// chain upwards from the leaf, and puts a certificate in it only above a parent
// whose subject is the certificate's issuer and whose key verifies the
// certificate's signature (CheckSignatureFrom), up to a trusted root. So a
// candidate that no trusted certificate, and no candidate that is itself so
// linked, signed can be in no chain crypto/x509 accepts, and leaving it out can
// change no verdict; anchored asks crypto/x509's CheckSignatureFrom exactly that,
// and nothing more: crypto/x509 still builds and checks every chain (times,
// constraints, usages) from what is left.
//
// That bounds what a request can make the verification spend: a candidate costs
// at most one signature check per trusted certificate of its issuer's name, with
// the trusted certificate's key, once per evaluation (links remembers every
// check by the exact bytes of both certificates; a check does not depend on the
// leaf or the time). A candidate issued by a name nothing trusted bears costs
// nothing at all. Without this, crypto/x509 checked the leaf's signature with
// each candidate bearing the intermediate's name, with whatever key (P-521) the
// request gave it, for every signature and verified time.
//
// A candidate under a trusted name still costs a check with the trusted key
// (P-384 for Fulcio), and a request can carry thousands of distinct ones. So
// the evaluation first decides every signature with the candidates already
// checked (checking off), and only then, for the signatures that failed for
// want of unchecked ones, checks those, the signatures with the fewest first
// (evaluate): a request's valid signature, whose chain has one intermediate, is
// not decided after every decoy of every other signature.
//
// An evaluation is one goroutine, so the map needs no lock.
type chainLinks struct {
	checked map[linkKey]bool
	// checking allows new signature checks; off, only remembered ones count.
	checking bool
	// checks counts the signature checks made, for tests.
	checks int
}

type linkKey struct{ child, parent string }

func newChainLinks() *chainLinks {
	return &chainLinks{checked: map[linkKey]bool{}}
}

// anchored returns the candidates that some chain of signatures links to the
// CA's root through its intermediates and other anchored candidates, minus the
// self-signed ones and those the CA already holds; and, when checking is off,
// how many candidates were left out only for want of a check.
func (l *chainLinks) anchored(ca *root.FulcioCertificateAuthority, candidates []*x509.Certificate) ([]*x509.Certificate, int) {
	parents := append([]*x509.Certificate{ca.Root}, ca.Intermediates...)
	pending := make([]*x509.Certificate, 0, len(candidates))
	for _, c := range candidates {
		if !containsCert(parents, c) && !containsCert(pending, c) {
			pending = append(pending, c)
		}
	}
	var out []*x509.Certificate
	for linked := true; linked; {
		linked = false
		for i, c := range pending {
			if c == nil || l.signedByOneOf(c, parents) != linkVerified {
				continue
			}
			pending[i], linked = nil, true
			parents = append(parents, c)
			// Issued by a trusted CA: its own key, which the check of a
			// self-signature costs, is the CA's choice, not the request's.
			if !selfSigned(c) {
				out = append(out, c)
			}
		}
	}
	// A candidate left pending could still be linked by a check not made, to
	// a parent already linked or to another pending candidate.
	withheld := 0
	for _, c := range pending {
		if l.checking {
			break
		}
		if c != nil && (l.signedByOneOf(c, parents) == linkUnchecked || l.signedByOneOf(c, pending) == linkUnchecked) {
			withheld++
		}
	}
	return out, withheld
}

type link int

const (
	linkRefused link = iota
	linkVerified
	linkUnchecked
)

// signedByOneOf tells whether crypto/x509 verifies c's signature with a
// parent of c's issuer name; linkUnchecked when it would have to be asked.
func (l *chainLinks) signedByOneOf(c *x509.Certificate, parents []*x509.Certificate) link {
	answer := linkRefused
	for _, p := range parents {
		if p == nil || !bytes.Equal(p.RawSubject, c.RawIssuer) || bytes.Equal(p.Raw, c.Raw) {
			continue
		}
		key := linkKey{child: string(c.Raw), parent: string(p.Raw)}
		ok, seen := l.checked[key]
		if !seen {
			if !l.checking {
				answer = linkUnchecked
				continue
			}
			l.checks++
			ok = c.CheckSignatureFrom(p) == nil
			l.checked[key] = ok
		}
		if ok {
			return linkVerified
		}
	}
	return answer
}

func containsCert(certs []*x509.Certificate, c *x509.Certificate) bool {
	for _, have := range certs {
		if bytes.Equal(have.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// selfSigned tells whether c is a root: self-issued (its issuer is its subject)
// and signed with its own key. The name comparison comes first because the
// signature check costs a full ECDSA verification (P-384 for Fulcio), which an
// intermediate, issued by another name, never needs.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(c) == nil
}
