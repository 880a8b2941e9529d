package check

import "github.com/policy-plugins/sigstore/protocol"

// Report is the result of a check, and the JSON object of `check --output
// json` (docs/check-output.md documents it; keep the two in step).
type Report struct {
	// Image is the image as given; DockerReference is containers/image's
	// normalized reference (what signedIdentity rules match against).
	Image           string `json:"image"`
	DockerReference string `json:"dockerReference"`
	Policy          string `json:"policy"`
	Scope           Scope  `json:"scope"`
	// Manifest is the manifest the policy was evaluated on: the top-level one.
	Manifest Manifest `json:"manifest"`
	// SignatureFormats are the formats looked for, sorted: both
	// (sigstore-bundle, sigstore-json) where registries.d sets
	// use-sigstore-attachments for the registry or repository; empty where it
	// does not (as podman, check then reads no signature), and when no plugin
	// requirement applies (containers/image reads its own signatures).
	SignatureFormats []string `json:"signatureFormats"`
	// Signatures are the candidate signatures found for Manifest, in the
	// order plugins receive them: cosign attachments, then bundles. Every
	// plugin requirement is sent all of them (but those Skipped).
	Signatures []FoundSignature `json:"signatures"`
	// SignaturesLeftOut counts the candidates found past what one request
	// may carry (1000 entries, 64 MiB; attachments first): left out unread,
	// as a host leaves them out, never failing the image.
	SignaturesLeftOut int `json:"signaturesLeftOut"`
	// ReferrersIndexLeftOut says the referrers index was larger than what is
	// read of one (4 MiB): left out unread, with every bundle it lists.
	ReferrersIndexLeftOut bool `json:"referrersIndexLeftOut"`
	// Warnings are the plugins' validate-config warnings for every plugin
	// requirement of the policy, as containers/image validates them when it
	// loads the policy: once per distinct plugin and config, at the path of
	// its first requirement in the policy's order.
	Warnings     []Problem     `json:"warnings"`
	Requirements []Requirement `json:"requirements"`
	// Accepted is true exactly when every requirement accepted; Verdict is
	// "accepted" or "rejected".
	Accepted bool   `json:"accepted"`
	Verdict  string `json:"verdict"`
}

// Verdicts.
const (
	VerdictAccepted = "accepted"
	VerdictRejected = "rejected"
)

// Scope is the policy scope whose requirements applied.
type Scope struct {
	// Path is its JSON path: transports.docker["registry.example.com/team"],
	// or "default" for the global default.
	Path string `json:"path"`
	// Transport and Name are empty for the global default; Name is "" for a
	// transport's default scope too.
	Transport string `json:"transport"`
	Name      string `json:"name"`
}

// Manifest describes the evaluated manifest.
type Manifest struct {
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	// Kind is "image" or "index" (an OCI index or a Docker manifest list).
	Kind string `json:"kind"`
	// Instances lists an index's per-platform manifests; empty for an image.
	Instances []Instance `json:"instances"`
}

// Instance is one entry of an index.
type Instance struct {
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	// Platform is os/architecture[/variant], or "" when the entry names none.
	Platform string `json:"platform"`
}

// FoundSignature is one candidate signature found in the registry.
type FoundSignature struct {
	Index  int    `json:"index"`
	Format string `json:"format"` // sigstore-json or sigstore-bundle
	// MediaType is the layer's (sigstore-json) or the referrer's artifact type.
	MediaType string `json:"mediaType"`
	// Source says where it was found: the .sig tag and layer, or the referrer
	// manifest's digest.
	Source string `json:"source"`
	// Skipped, when not empty, says why it was not sent to plugins.
	Skipped string `json:"skipped,omitempty"`
}

// Problem is a warning at a JSON path of policy.json.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// Requirement outcomes.
const (
	OutcomeAccepted = "accepted"
	OutcomeRejected = "rejected"
	// OutcomeFailed is a rejection because the plugin could not be used or
	// answered outside the protocol (a crash, a timeout, malformed output).
	OutcomeFailed = "failed"
)

// Requirement is the outcome of one requirement.
type Requirement struct {
	Path   string `json:"path"`
	Type   string `json:"type"`
	Plugin string `json:"plugin,omitempty"`
	// Outcome is accepted, rejected or failed; Reason says why, on one line.
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	// For plugin requirements that answered: the signature that satisfied the
	// requirement (its index into Report.Signatures) and one result per
	// signature the plugin was sent.
	AcceptedSignature *protocol.Accepted `json:"acceptedSignature,omitempty"`
	Signatures        []SignatureResult  `json:"signatures,omitempty"`
}

// SignatureResult is a plugin's verdict on one signature.
type SignatureResult struct {
	Signature int    `json:"signature"` // index into Report.Signatures
	Accepted  bool   `json:"accepted"`
	Reason    string `json:"reason"`
}
