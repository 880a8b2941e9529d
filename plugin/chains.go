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
// Nothing here decides anything on its own. A path is remembered only from a
// chain the full verification accepted, so the first signature costs what it
// always did. sharingCA takes the short path only when crypto/x509 is bound to
// build exactly the chain it assembles and to run exactly the checks it runs; in
// every other case, and whenever the short path does not accept, the full
// verification decides, and its answer (and error text) is then the only one.
// An evaluation is one goroutine, so the map needs no lock.
type verifiedPaths struct {
	// paths holds, by intermediate and root, the part [intermediate, ...,
	// root] of a chain crypto/x509 verified for code signing. Its signatures,
	// basic constraints, extended key usages, critical extensions and path
	// lengths do not depend on the leaf or the time; its validity windows are
	// checked again for every leaf (joinPath).
	paths map[pathKey][]*x509.Certificate
	// remembered counts the paths remembered, for tests that show the work is
	// shared.
	remembered int
}

type pathKey struct{ intermediate, root string }

func newVerifiedPaths() *verifiedPaths {
	return &verifiedPaths{paths: map[pathKey][]*x509.Certificate{}}
}

// sharingCA verifies a leaf as the Fulcio CA it wraps does, sharing the
// intermediate's verified path to the root through paths.
type sharingCA struct {
	*root.FulcioCertificateAuthority
	paths *verifiedPaths
}

func (ca *sharingCA) Verify(leaf *x509.Certificate, at time.Time) ([][]*x509.Certificate, error) {
	issuer, pool, ok := ca.sharableIssuer(leaf, at)
	if !ok {
		return ca.FulcioCertificateAuthority.Verify(leaf, at)
	}
	key := pathKey{intermediate: string(issuer.Raw), root: string(ca.Root.Raw)}
	if path := ca.paths.paths[key]; path != nil {
		if chain, ok := joinPath(leaf, issuer, path, pool, at); ok {
			return [][]*x509.Certificate{chain}, nil
		}
	}
	chains, err := ca.FulcioCertificateAuthority.Verify(leaf, at)
	if err == nil && len(chains) == 1 && len(chains[0]) >= 3 && bytes.Equal(chains[0][1].Raw, issuer.Raw) &&
		!constrainsLeaves(chains[0][2:]) {
		// A verified chain [leaf, issuer, ..., root] proves its upper part
		// [issuer, ..., root] for every check that does not depend on the
		// leaf or the time; joinPath repeats the ones that do.
		ca.paths.paths[key] = chains[0][1:]
		ca.paths.remembered++
	}
	return chains, err
}

// constrainsLeaves tells whether certificates above an issuer constrain what
// they accept below it by content: name constraints (checked against the
// leaf's names) or policy constraints and mappings (RFC 5280 policy validation
// then depends on the leaf's policies). A path through them is not shared.
func constrainsLeaves(uppers []*x509.Certificate) bool {
	return slices.ContainsFunc(uppers, func(c *x509.Certificate) bool {
		return hasExtension(c, oidNameConstraints) || constrainsPolicies(c)
	})
}

// sharableIssuer finds the leaf's issuer when the short path may apply to it:
// the time is inside the CA's validity window; every certificate the pools hold
// has its own subject, so each certificate has at most one candidate issuer and
// crypto/x509 builds at most one chain (no search, no signature-check limit);
// the issuer is a CA (as an anchor crypto/x509 would not require it to be one);
// and neither the leaf nor the issuer carries policy constraints or mappings.
// A zero time, which crypto/x509 reads as now, never shares.
func (ca *sharingCA) sharableIssuer(leaf *x509.Certificate, at time.Time) (*x509.Certificate, map[string]*x509.Certificate, bool) {
	if at.IsZero() || ca.Root == nil ||
		(!ca.ValidityPeriodStart.IsZero() && at.Before(ca.ValidityPeriodStart)) ||
		(!ca.ValidityPeriodEnd.IsZero() && at.After(ca.ValidityPeriodEnd)) {
		return nil, nil, false
	}
	pool, ok := uniqueSubjects(ca.Root, ca.Intermediates)
	if !ok {
		return nil, nil, false
	}
	issuer := pool[string(leaf.RawIssuer)]
	// crypto/x509 checks a version 3 issuer's CA bit when it checks the leaf's
	// signature, but not a version 1 issuer's, which only its intermediate
	// checks would refuse.
	if issuer == nil || !issuer.BasicConstraintsValid || !issuer.IsCA ||
		constrainsPolicies(leaf) || constrainsPolicies(issuer) {
		return nil, nil, false
	}
	return issuer, pool, true
}

// joinPath verifies leaf by its issuer alone (the issuer as the anchor: one
// signature check, the leaf's and the issuer's validity at `at`, the issuer's
// name constraints and extended key usages) and joins the issuer's verified
// path to the root. The joined chain is the one crypto/x509 would build, and
// passes each of its checks, when, besides sharableIssuer's conditions and the
// path's own (no name or policy constraints above the issuer: with no policy
// constraints in the chain, RFC 5280 policy validation accepts it whatever the
// policies listed), these hold (each is tested in chains_test.go against the
// full verification):
//   - every certificate of the path is still in the pool (subjects being
//     unique, crypto/x509 would pick it again);
//   - every certificate above the issuer is valid at `at`;
//   - the leaf does not share a subject with one of them (crypto/x509 refuses
//     such loops).
//
// Path lengths need no check: the path was learnt from an accepted chain with
// the same intermediates below each of its certificates as the joined one.
func joinPath(leaf, issuer *x509.Certificate, path []*x509.Certificate, pool map[string]*x509.Certificate, at time.Time) ([]*x509.Certificate, bool) {
	for _, upper := range path[1:] {
		if inPool := pool[string(upper.RawSubject)]; inPool == nil || !bytes.Equal(inPool.Raw, upper.Raw) ||
			at.Before(upper.NotBefore) || at.After(upper.NotAfter) ||
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
	return append([]*x509.Certificate{leaf}, path...), true
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
