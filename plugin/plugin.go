// Package plugin is the sigstore policy plugin: it decides whether an image's cosign
// signatures and Sigstore bundles satisfy one requirement of policy.json, with
// Fulcio identities matched by issuer, email, URI or full-match regexp, Fulcio
// extension pins, and containers/image's signedIdentity semantics.
//
// # Where a verdict is decided
//
// A signature is accepted only if every one of these accepts it, in this order
// (Evaluate; the first accepted signature ends the work). Nothing else can
// accept, and these are the only places that can:
//
//  1. sigstore-go's verifier (runVerifier, verify.go), with the options of
//     bundle_verify.go: the signature over the payload (a legacy signature
//     becomes a v0.1 bundle, legacy.go), the certificate chain to a trusted
//     Fulcio CA at each verified time (crypto/x509, through
//     FulcioCertificateAuthority, with the signature's chain certificates lent
//     as candidates, intermediates.go), the transparency log entries and their
//     SETs, RFC 3161 timestamps, SCTs, and, for bundles, the binding to the
//     manifest digest (WithArtifactDigest: a message signature's digest, an
//     in-toto statement's subject).
//     What it accepted comes out as a verified value, which only runVerifier
//     makes, and which 3 to 5 take as their only input.
//  2. Log windows (checkLogWindows, bundle_tlog.go): a bundle's log entry must
//     come from a log valid at every verified time, which sigstore-go checks
//     only through a SET.
//  3. Identity matching (readCertIdentity, certificate.go; matchIdentities,
//     identity.go) on the leaf sigstore-go verified; in key mode, the key that
//     verified (verifyWithKeys).
//  4. Digest binding of what was signed: a legacy payload, parsed only after
//     its signature verified (payload.go), must name this manifest
//     (bindLegacyPayload, evaluate.go); a bundle's verified statement must be
//     in-toto, of an allowed predicate type, with a subject of this digest
//     (bindBundle, bundle_binding.go).
//  5. signedIdentity (checkSignedReference, evaluate.go; signedidentity.go) on
//     the reference the signature names.
//  6. For a signature of the image's index (image.index): 1 to 5 decide it
//     as they decide the image's signatures, by the same code (decide), with
//     the index's bytes and digest in place of the image's and the same
//     reference to match; then the index must list the image (listsInstance,
//     index.go): the verified index bytes, read only now, by containers/image's
//     list parser after the strict JSON rules, must name the image's sha256
//     digest directly.
//
// Before these, structural checks of the untrusted input only reject
// (parseUntrustedLegacy, legacy.go; parseUntrustedBundle, bundle_parse.go;
// limits.go). Two things only save work and decide nothing: chainLinks
// (intermediates.go) leaves out lent chain certificates crypto/x509 could put in
// no chain, and copies (copies.go) reuses the rejection of an entry seen
// before. explain.go looks at the inputs of a rejection again only to word its
// reason.
package plugin

import (
	"github.com/policy-plugins/sigstore/protocol"
)

// Name is the plugin's name in policy.json ({"type": "plugin", "plugin": "sigstore"}).
const Name = "sigstore"

// Version is stamped at build time (-ldflags -X).
var Version = "0.1.0-dev"

// SignatureFormats lists the formats the plugin reads, in the order it prefers.
func SignatureFormats() []string {
	return []string{protocol.FormatSigstoreJSON, protocol.FormatSigstoreBundle}
}

// Handler serves the protocol commands.
type Handler struct{}

var _ protocol.Handler = Handler{}

// Metadata describes the plugin.
func (Handler) Metadata() protocol.Metadata {
	return protocol.Metadata{
		Name:             Name,
		Version:          Version,
		APIVersions:      []string{protocol.APIVersion},
		SignatureFormats: SignatureFormats(),
	}
}

// ValidateConfig parses a config and loads every file it names.
func (Handler) ValidateConfig(req *protocol.ValidateConfigRequest) (*protocol.ValidateConfigResponse, error) {
	_, errs, warnings := ParseConfig(req.Config)
	return &protocol.ValidateConfigResponse{Errors: errs, Warnings: warnings}, nil
}

// Verify evaluates a request.
func (Handler) Verify(req *protocol.VerifyRequest) (*protocol.VerifyResponse, error) {
	return Evaluate(req)
}
