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
	// Platform is the platform asked for (--platform): "" for this
	// machine's, os/arch[/variant], or "all" for every instance.
	Platform string `json:"platform"`
	// Manifest is the top-level manifest read for the image: the image's, or
	// the index it is chosen from.
	Manifest Manifest `json:"manifest"`
	// SignatureFormats are the formats looked for, sorted: both
	// (sigstore-bundle, sigstore-json) where registries.d sets
	// use-sigstore-attachments for the registry or repository; empty where it
	// does not (as podman, check then reads no signature), and when no plugin
	// requirement applies (containers/image reads its own signatures).
	SignatureFormats []string `json:"signatureFormats"`
	// IndexSignatures are the candidate signatures of the top-level index,
	// when Manifest is one and a plugin requirement applies: sent to plugins
	// with every instance chosen from it, as image.index.signatures.
	IndexSignatures []FoundSignature `json:"indexSignatures"`
	// IndexSignaturesLeftOut and IndexReferrersIndexLeftOut are
	// Evaluated.SignaturesLeftOut and ReferrersIndexLeftOut for the index's
	// signatures, read once for every image chosen from it.
	IndexSignaturesLeftOut     int  `json:"indexSignaturesLeftOut"`
	IndexReferrersIndexLeftOut bool `json:"indexReferrersIndexLeftOut"`
	// Warnings are the plugins' validate-config warnings and errors for
	// every plugin requirement of the policy, with --lint only: once per
	// distinct plugin and config, at the path of its first requirement in
	// the policy's order. They never change the verdict.
	Warnings []Problem `json:"warnings"`
	// Images are the manifests the policy was evaluated on, as podman pull
	// evaluates it: the image itself, or the instance of the index chosen for
	// Platform; every instance, in index order, for "all".
	Images []Evaluated `json:"images"`
	// Accepted is true exactly when every image was accepted; Verdict is
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

// Evaluated is one manifest the policy was evaluated on, and the outcome.
type Evaluated struct {
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	// Platform is the index entry's os/architecture[/variant]; "" when the
	// image was not chosen from an index or its entry names none.
	Platform string `json:"platform"`
	// Index is the digest of the index the image was chosen from, sent to
	// plugins with its signatures (Report.IndexSignatures); "" when there is
	// none: the image is the top level (a single manifest, or an instance
	// named by its digest).
	Index string `json:"index"`
	// Signatures are the image's candidate signatures, in the order plugins
	// receive them: cosign attachments, then bundles. Every plugin
	// requirement is sent all of them (but those Skipped).
	Signatures []FoundSignature `json:"signatures"`
	// SignaturesLeftOut counts the image's candidates past what its plugin
	// requests may carry (protocol.SignatureBudget: 1000 entries and 64 MiB
	// for the image's and its index's together, in a host's order: the
	// image's attachments, the index's, the image's bundles, the index's):
	// left out unread, as a host leaves them out, never failing the image.
	SignaturesLeftOut int `json:"signaturesLeftOut"`
	// ReferrersIndexLeftOut says the image's referrers index was larger than
	// what is read of one (4 MiB): left out unread, with every bundle it
	// lists.
	ReferrersIndexLeftOut bool          `json:"referrersIndexLeftOut"`
	Requirements          []Requirement `json:"requirements"`
	// Accepted is true exactly when every requirement accepted.
	Accepted bool   `json:"accepted"`
	Verdict  string `json:"verdict"`
}

// Manifest describes the top-level manifest.
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
	// AcceptedVia says whose signature decided an accepting plugin
	// requirement: "image" (Evaluated.Signatures) or "index"
	// (Report.IndexSignatures). Built-in requirements are evaluated by
	// containers/image on the image alone, never through its index.
	AcceptedVia string `json:"acceptedVia,omitempty"`
	// For plugin requirements that answered: the signature that satisfied the
	// requirement (its index into Evaluated.Signatures, or with via "index"
	// into Report.IndexSignatures) and one result per signature found, of
	// the image and of its index.
	AcceptedSignature *protocol.Accepted `json:"acceptedSignature,omitempty"`
	Signatures        []SignatureResult  `json:"signatures,omitempty"`
	IndexSignatures   []SignatureResult  `json:"indexSignatures,omitempty"`
}

// SignatureResult is a plugin's verdict on one signature.
type SignatureResult struct {
	Signature int    `json:"signature"` // index into the image's or the index's signatures
	Accepted  bool   `json:"accepted"`
	Reason    string `json:"reason"`
}
