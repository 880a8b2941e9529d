// Package plugin is the sigstore policy plugin: it decides whether an image's cosign
// signatures and Sigstore bundles satisfy one requirement of policy.json, with
// Fulcio identities matched by issuer, email, URI or full-match regexp, Fulcio
// extension pins, and containers/image's signedIdentity semantics.
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
