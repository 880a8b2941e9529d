package protocol

import "encoding/json"

// APIVersion is the only protocol version this package speaks.
const APIVersion = "containers-policy-plugin/v1alpha1"

// Message kinds.
const (
	KindMetadata               = "Metadata"
	KindValidateConfigRequest  = "ValidateConfigRequest"
	KindValidateConfigResponse = "ValidateConfigResponse"
	KindVerifyRequest          = "VerifyRequest"
	KindVerifyResponse         = "VerifyResponse"
	KindError                  = "Error"
)

// Commands, the plugin's first argument.
const (
	CommandMetadata       = "metadata"
	CommandValidateConfig = "validate-config"
	CommandVerify         = "verify"
)

// Signature formats a host can collect.
const (
	// FormatSigstoreJSON is one layer of a cosign sha256-<digest>.sig attachment, in
	// containers/image's in-memory form.
	FormatSigstoreJSON = "sigstore-json"
	// FormatSigstoreBundle is one Sigstore bundle, e.g. a cosign v3 OCI referrer.
	FormatSigstoreBundle = "sigstore-bundle"
)

// Metadata answers the metadata command.
type Metadata struct {
	APIVersion       string   `json:"apiVersion"`
	Kind             string   `json:"kind"`
	Name             string   `json:"name"`
	Version          string   `json:"version"`
	APIVersions      []string `json:"apiVersions"`
	SignatureFormats []string `json:"signatureFormats"`
}

// ValidateConfigRequest asks whether a requirement's config is valid.
type ValidateConfigRequest struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Config     json.RawMessage `json:"config"`
}

// ValidateConfigResponse answers validate-config. Valid is false exactly when Errors
// is non-empty.
type ValidateConfigResponse struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Valid      bool            `json:"valid"`
	Errors     []ConfigProblem `json:"errors"`
	Warnings   []ConfigProblem `json:"warnings"`
}

// ConfigProblem is one config error or warning, located by JSON path
// (config.identities[0].subjectRegexp).
type ConfigProblem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// VerifyRequest asks whether an image's signatures satisfy one requirement.
type VerifyRequest struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	RequestID  *string         `json:"requestID,omitempty"`
	Config     json.RawMessage `json:"config"`
	Image      Image           `json:"image"`
	Signatures []Signature     `json:"signatures"`
}

// Image is the image whose signatures are verified.
type Image struct {
	Transport string `json:"transport"`
	// DockerReference is the reference the user asked for, normalized by
	// containers/image; nil when the transport has none.
	DockerReference *string `json:"dockerReference"`
	// Manifest holds the exact manifest bytes (base64 on the wire). The plugin
	// computes their digest itself.
	Manifest         []byte `json:"manifest"`
	ManifestMIMEType string `json:"manifestMIMEType,omitempty"`
	// Index is the manifest list or image index the host chose Manifest from,
	// in the same operation; nil when there is none (an image named by its
	// instance digest, or a Manifest that is itself the top level).
	Index *Index `json:"index,omitempty"`
}

// Index is the manifest list / image index an instance was chosen from, in the
// same operation. A signature of it that satisfies the config counts for the
// instance only when the index lists the instance's digest directly.
type Index struct {
	// Manifest holds the exact bytes the host read (base64 on the wire); the
	// plugin computes their digest itself.
	Manifest         []byte `json:"manifest"`
	ManifestMIMEType string `json:"manifestMIMEType,omitempty"`
	// Signatures are every candidate found for the index's digest, in the
	// forms of VerifyRequest.Signatures.
	Signatures []Signature `json:"signatures"`
}

// Signature is one candidate signature. Which fields are set depends on Format.
type Signature struct {
	Format string `json:"format"`

	// sigstore-json
	MIMEType    string            `json:"mimeType,omitempty"`
	Payload     []byte            `json:"payload,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`

	// sigstore-bundle
	MediaType string          `json:"mediaType,omitempty"`
	Bundle    json.RawMessage `json:"bundle,omitempty"`

	// Unknown is set for a format this package does not know. Such an entry is not
	// an error: the plugin rejects that one signature and evaluates the others.
	// Its other fields are then not interpreted, so they can constrain nothing.
	Unknown bool `json:"-"`
}

// Verdicts.
const (
	VerdictAccept = "accept"
	VerdictReject = "reject"
)

// VerifyResponse answers verify. A reject is a normal answer (exit 0).
type VerifyResponse struct {
	APIVersion     string  `json:"apiVersion"`
	Kind           string  `json:"kind"`
	RequestID      *string `json:"requestID,omitempty"`
	ManifestDigest string  `json:"manifestDigest"`
	// IndexDigest is the digest the plugin computed from image.index.manifest:
	// present exactly when the request carried image.index.
	IndexDigest string            `json:"indexDigest,omitempty"`
	Verdict     string            `json:"verdict"`
	Reason      string            `json:"reason"`
	Accepted    *Accepted         `json:"accepted,omitempty"`
	Signatures  []SignatureResult `json:"signatures"`
	// IndexSignatures has one result per image.index.signatures entry, in
	// order: present (an empty list for none, hence omitzero, not omitempty)
	// exactly when the request carried image.index.
	IndexSignatures []SignatureResult `json:"indexSignatures,omitzero"`
}

// Accepted describes the signature that satisfied the requirement. Fields that do not
// apply are null, never absent.
type Accepted struct {
	// Via says whose signature list Signature indexes: AcceptedViaImage
	// (signatures) or AcceptedViaIndex (image.index.signatures).
	Via             string  `json:"via"`
	Signature       int     `json:"signature"`
	Format          string  `json:"format"`
	Issuer          *string `json:"issuer"`
	Subject         *string `json:"subject"`
	PublicKey       *string `json:"publicKey"`
	SignedReference *string `json:"signedReference"`
	// Time is the verified signing time in RFC 3339, UTC.
	Time *string `json:"time"`
}

// Values of Accepted.Via.
const (
	AcceptedViaImage = "image"
	AcceptedViaIndex = "index"
)

// SignatureResult is the outcome for one request signature, in request order.
type SignatureResult struct {
	Index    int    `json:"index"`
	Accepted bool   `json:"accepted"`
	Reason   string `json:"reason"`
}

// NotEvaluated is the reason of signatures after the first accepted one.
const NotEvaluated = "not evaluated"

// Error is the body of an exit-1 answer to any command.
type Error struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Code       string `json:"code"`
	Message    string `json:"message"`
}
