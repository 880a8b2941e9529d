package registry

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/image"
)

// Attachment is one cosign signature in the legacy layout: one layer of the
// manifest tagged sha256-<hex>.sig, as containers/image reads it (its
// signature.Sigstore). All of it is untrusted.
type Attachment struct {
	// MIMEType is the layer's media type, normally
	// application/vnd.dev.cosign.simplesigning.v1+json.
	MIMEType string
	// Payload is the layer's content: the signed simple-signing payload.
	Payload []byte
	// Annotations are the layer's annotations: dev.cosignproject.cosign/signature,
	// and dev.sigstore.cosign/certificate, .../chain, .../bundle when present.
	Annotations map[string]string
}

// sigstoreSignature is what containers/image's internal signature.Sigstore
// offers; UntrustedSignatures returns it behind an internal interface type.
type sigstoreSignature interface {
	UntrustedMIMEType() string
	UntrustedPayload() []byte
	UntrustedAnnotations() map[string]string
}

// Attachments fetches the cosign signatures attached to manifest d of the
// image (the top-level manifest or one instance) in the legacy layout,
// through containers/image: only when registries.d enables
// use-sigstore-attachments for the image's registry or repository, exactly
// as podman would; otherwise the result is empty. No .sig tag is an empty
// result; any other failure is an error. Signatures of other formats
// (simple signing from lookaside) are not returned.
func (img *Image) Attachments(ctx context.Context, d digest.Digest) ([]Attachment, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("manifest digest %q: %w", d, err)
	}
	start := time.Now()
	untrustedSignatures, err := image.UnparsedInstance(img.src, &d).UntrustedSignatures(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetching signatures of %s@%s: %w", img.ref.DockerReference().Name(), d, img.relay.idle.explain(err, start))
	}
	attachments := []Attachment{}
	for _, untrustedSignature := range untrustedSignatures {
		s, ok := untrustedSignature.(sigstoreSignature)
		if !ok {
			continue
		}
		attachments = append(attachments, Attachment{
			MIMEType:    s.UntrustedMIMEType(),
			Payload:     slices.Clone(s.UntrustedPayload()),
			Annotations: maps.Clone(s.UntrustedAnnotations()),
		})
	}
	return attachments, nil
}
