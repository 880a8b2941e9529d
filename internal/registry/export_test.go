package registry

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/image"
)

// sigstoreSignature is what containers/image's internal signature.Sigstore
// offers; UntrustedSignatures returns it behind an internal interface type.
type sigstoreSignature interface {
	UntrustedMIMEType() string
	UntrustedPayload() []byte
	UntrustedAnnotations() map[string]string
}

// AttachmentsByContainersImage are the attachments of manifest d as
// containers/image itself reads them (UntrustedSignatures, registries.d
// applied by it): what Attachments must agree with, short of the budget.
func AttachmentsByContainersImage(ctx context.Context, img *Image, d digest.Digest) ([]Attachment, error) {
	untrustedSignatures, err := image.UnparsedInstance(img.src, &d).UntrustedSignatures(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetching signatures of %s@%s: %w", img.ref.DockerReference().Name(), d, err)
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
