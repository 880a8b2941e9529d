package plugin

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"slices"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// verifiedPaths remembers, for one evaluation, each intermediate's verified path
// to a trusted root, so that signatures issued by the same intermediate (and one
// signature verified at two times, its SET's and its timestamp's) verify the
// intermediate's signature by the root once, not once per leaf and time. Every
// call of FulcioCertificateAuthority.Verify otherwise repeats it: a P-384
// verification, a quarter of a keyless verify.
//
// Nothing here decides anything on its own. sharingCA takes the short path only
// when crypto/x509 is bound to build exactly the chain it assembles and to run
// exactly the checks it runs; in every other case, and whenever the short path
// does not accept, it defers to the full verification, whose answer (and error
// text) is then the only one. An evaluation is one goroutine, so the map needs
// no lock.
type verifiedPaths struct {
	paths map[pathKey]*upperPath
	// computed counts the paths verified, for tests that show the work is
	// shared.
	computed int
}

type pathKey struct{ intermediate, root string }

// upperPath is a chain [intermediate, ..., root] that crypto/x509 verified for
// code signing. Its signatures, basic constraints, extended key usages and
// critical extensions do not depend on the time; its validity windows and path
// lengths are checked again for every leaf.
type upperPath struct {
	chain []*x509.Certificate
}

func newVerifiedPaths() *verifiedPaths {
	return &verifiedPaths{paths: map[pathKey]*upperPath{}}
}

// sharingCA verifies a leaf as the Fulcio CA it wraps does, sharing the
// intermediate's path to the root through paths.
type sharingCA struct {
	*root.FulcioCertificateAuthority
	paths *verifiedPaths
}

func (ca *sharingCA) Verify(leaf *x509.Certificate, at time.Time) ([][]*x509.Certificate, error) {
	if chain, ok := ca.verifyThroughKnownPath(leaf, at); ok {
		return [][]*x509.Certificate{chain}, nil
	}
	return ca.FulcioCertificateAuthority.Verify(leaf, at)
}

// verifyThroughKnownPath verifies leaf by its issuing intermediate alone (the
// intermediate as the anchor: one signature check, the leaf's and the
// intermediate's validity at, and the intermediate's name constraints and
// extended key usages) and joins the intermediate's remembered path to the root.
//
// The joined chain is the one chain crypto/x509 would build, and passes each of
// its checks, when these hold (each is tested in chains_test.go against the full
// verification):
//   - every certificate the pools hold has its own subject, so each certificate
//     has at most one candidate issuer and the path is unique (no search, no
//     signature-check limit);
//   - the leaf's issuer is an intermediate, a CA (as an anchor crypto/x509 would
//     not require it), and not the leaf itself;
//   - no certificate above the intermediate carries name constraints (they
//     would constrain the leaf), and none of the chain carries policy
//     constraints or mappings (then RFC 5280 policy validation accepts any
//     chain);
//   - every certificate above the intermediate is valid at `at`, and allows the
//     intermediates now below it (path length);
//   - the leaf does not share a subject with one of them (crypto/x509 refuses
//     such loops).
func (ca *sharingCA) verifyThroughKnownPath(leaf *x509.Certificate, at time.Time) ([]*x509.Certificate, bool) {
	if at.IsZero() || ca.Root == nil ||
		(!ca.ValidityPeriodStart.IsZero() && at.Before(ca.ValidityPeriodStart)) ||
		(!ca.ValidityPeriodEnd.IsZero() && at.After(ca.ValidityPeriodEnd)) {
		return nil, false
	}
	pool, ok := uniqueSubjects(ca.Root, ca.Intermediates)
	if !ok {
		return nil, false
	}
	issuer := pool[string(leaf.RawIssuer)]
	if issuer == nil || issuer == ca.Root || !issuer.BasicConstraintsValid || !issuer.IsCA ||
		bytes.Equal(issuer.Raw, leaf.Raw) || constrainsPolicies(leaf) || constrainsPolicies(issuer) {
		return nil, false
	}
	path := ca.paths.lookup(issuer, ca.Root, pool, at)
	if path == nil {
		return nil, false
	}
	for j, upper := range path.chain[1:] {
		below := j + 1 // intermediates between upper and the leaf in the joined chain
		if at.Before(upper.NotBefore) || at.After(upper.NotAfter) ||
			(upper.BasicConstraintsValid && upper.MaxPathLen >= 0 && below > upper.MaxPathLen) ||
			hasExtension(upper, oidNameConstraints) || constrainsPolicies(upper) ||
			bytes.Equal(upper.RawSubject, leaf.RawSubject) {
			return nil, false
		}
	}
	anchor := x509.NewCertPool()
	anchor.AddCert(issuer)
	chains, err := leaf.Verify(x509.VerifyOptions{
		CurrentTime: at,
		Roots:       anchor,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	})
	if err != nil || len(chains) != 1 || len(chains[0]) != 2 {
		return nil, false
	}
	return append([]*x509.Certificate{leaf}, path.chain...), true
}

// lookup returns the verified path from intermediate to root, verifying it at
// `at` the first time. A path is used again only while every certificate on it
// is still in the pool, where, subjects being unique, crypto/x509 would pick it
// again. A failed verification is not remembered: the full verification then
// decides, and explains.
func (p *verifiedPaths) lookup(intermediate, trustedRoot *x509.Certificate, pool map[string]*x509.Certificate, at time.Time) *upperPath {
	key := pathKey{intermediate: string(intermediate.Raw), root: string(trustedRoot.Raw)}
	if path, ok := p.paths[key]; ok {
		for _, c := range path.chain[1 : len(path.chain)-1] {
			if inPool := pool[string(c.RawSubject)]; inPool == nil || !bytes.Equal(inPool.Raw, c.Raw) {
				return nil
			}
		}
		return path
	}
	roots := x509.NewCertPool()
	roots.AddCert(trustedRoot)
	intermediates := x509.NewCertPool()
	for _, c := range pool {
		if c != trustedRoot {
			intermediates.AddCert(c)
		}
	}
	chains, err := intermediate.Verify(x509.VerifyOptions{
		CurrentTime:   at,
		Roots:         roots,
		Intermediates: intermediates,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	})
	if err != nil || len(chains) != 1 {
		return nil
	}
	path := &upperPath{chain: chains[0]}
	p.paths[key] = path
	p.computed++
	return path
}

// uniqueSubjects indexes the CA's certificates by subject, the key crypto/x509
// finds issuers by. It fails when two different certificates share a subject:
// then crypto/x509 searches among candidates, and only it may.
func uniqueSubjects(trustedRoot *x509.Certificate, intermediates []*x509.Certificate) (map[string]*x509.Certificate, bool) {
	pool := make(map[string]*x509.Certificate, len(intermediates)+1)
	for _, c := range slices.Concat([]*x509.Certificate{trustedRoot}, intermediates) {
		if seen, ok := pool[string(c.RawSubject)]; ok {
			if !bytes.Equal(seen.Raw, c.Raw) || seen == trustedRoot || c == trustedRoot {
				return nil, false
			}
			continue // the same certificate twice, which a CertPool holds once
		}
		pool[string(c.RawSubject)] = c
	}
	return pool, true
}

var (
	oidNameConstraints = asn1.ObjectIdentifier{2, 5, 29, 30}
	oidPolicyMappings  = asn1.ObjectIdentifier{2, 5, 29, 33}
	oidPolicyConstr    = asn1.ObjectIdentifier{2, 5, 29, 36}
	oidInhibitAny      = asn1.ObjectIdentifier{2, 5, 29, 54}
)

// constrainsPolicies tells whether c takes part in RFC 5280 policy validation
// beyond listing policies: with no constraints or mappings anywhere in a chain,
// crypto/x509's policy validation accepts it whatever the policies listed.
func constrainsPolicies(c *x509.Certificate) bool {
	return hasExtension(c, oidPolicyMappings) || hasExtension(c, oidPolicyConstr) || hasExtension(c, oidInhibitAny) ||
		len(c.PolicyMappings) > 0 || c.RequireExplicitPolicy > 0 || c.RequireExplicitPolicyZero ||
		c.InhibitPolicyMapping > 0 || c.InhibitPolicyMappingZero || c.InhibitAnyPolicy > 0 || c.InhibitAnyPolicyZero
}

func hasExtension(c *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	return slices.ContainsFunc(c.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(oid) })
}
