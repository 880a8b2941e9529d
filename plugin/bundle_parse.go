package plugin

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// untrustedBundle is a Sigstore bundle as the request carries it: parsed and
// structurally valid (a supported media type, content and verification material
// of a known kind, the tlog entries that version requires), nothing verified.
type untrustedBundle struct {
	*bundle.Bundle
	// leaf is the signing certificate, nil for a key-signed bundle.
	leaf *x509.Certificate
	// chain holds the certificates after the leaf in an x509CertificateChain
	// (v0.1 and v0.2 bundles): candidates for path building, never anchors.
	chain []*x509.Certificate
}

// parseUntrustedBundle reads one sigstore-bundle signature. The document rules
// are checked here (Evaluate is also called in-process, where no request decoder
// ran), with the request's: duplicate keys, well-formed strings; protojson then
// refuses unknown fields and bad base64, and sigstore-go's bundle validation
// refuses unsupported versions
// (v0.4 and later, or before v0.1), v0.3 chains, and tlog entries without what
// their version needs (a promise for v0.1, a proof with a checkpoint after).
func parseUntrustedBundle(untrustedJSON json.RawMessage) (*untrustedBundle, error) {
	if err := strictjson.ValidateText(untrustedJSON, "bundle"); err != nil {
		return nil, rejectBecause(err, fmt.Sprintf("malformed bundle: %v", err))
	}
	pb := &protobundle.Bundle{}
	if err := protojson.Unmarshal(untrustedJSON, pb); err != nil {
		return nil, rejectBecause(err, fmt.Sprintf("malformed bundle: %v", err))
	}
	// These checks come before sigstore-go's own so that the reason names the
	// actual defect rather than whatever else the bundle lacks.
	if err := checkLogIndexes(pb); err != nil {
		return nil, err
	}
	u := &untrustedBundle{}
	if err := u.readCertificates(pb.GetVerificationMaterial()); err != nil {
		return nil, err
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, rejectBecause(err, fmt.Sprintf("invalid or unsupported bundle: %v", err))
	}
	u.Bundle = b
	return u, nil
}

// checkLogIndexes refuses negative log indexes, which sigstore-go reports only as
// a "nil value in transaction log entry".
func checkLogIndexes(pb *protobundle.Bundle) error {
	for i, e := range pb.GetVerificationMaterial().GetTlogEntries() {
		if e.GetLogIndex() < 0 || e.GetInclusionProof().GetLogIndex() < 0 {
			return rejectf("transparency log entry %d has a negative log index", i)
		}
	}
	return nil
}

// readCertificates parses the verification material's certificates. The bundle
// specification forbids a root in x509CertificateChain: a verifier must reach the
// root from its own trust material, and a chain that carries one is either
// confused or hoping to be trusted for it. A root is told by its name alone
// (self-issued: its issuer is its subject), not by checking its self-signature:
// that check costs a verification with a key the bundle chose (P-521), for
// every such certificate of every signature, and no Fulcio chain has a
// self-issued certificate below its root.
func (u *untrustedBundle) readCertificates(vm *protobundle.VerificationMaterial) error {
	if c := vm.GetCertificate(); c != nil {
		leaf, err := x509.ParseCertificate(c.GetRawBytes())
		if err != nil {
			return rejectf("invalid certificate in bundle: %v", err)
		}
		u.leaf = leaf
		return nil
	}
	chain := vm.GetX509CertificateChain()
	if chain == nil {
		return nil // a public key; sigstore-go refuses anything else
	}
	if len(chain.GetCertificates()) == 0 {
		return rejectf("bundle has an empty x509CertificateChain")
	}
	if n := len(chain.GetCertificates()) - 1; n > MaxChainCertificates {
		return rejectf("bundle's x509CertificateChain holds %d certificates besides the leaf, at most %d are accepted", n, MaxChainCertificates)
	}
	for i, c := range chain.GetCertificates() {
		cert, err := x509.ParseCertificate(c.GetRawBytes())
		if err != nil {
			return rejectf("invalid certificate %d in the bundle's x509CertificateChain: %v", i, err)
		}
		if i == 0 {
			u.leaf = cert
			continue
		}
		if bytes.Equal(cert.RawSubject, cert.RawIssuer) {
			return rejectf("bundle's x509CertificateChain includes a root certificate (%s): roots must come from the trust material", cert.Subject)
		}
		u.chain = append(u.chain, cert)
	}
	return nil
}
