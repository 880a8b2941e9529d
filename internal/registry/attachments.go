package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/opencontainers/go-digest"
	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/manifest"

	"github.com/policy-plugins/sigstore/protocol"
)

// Limits on the legacy attachments, containers/image's own (its
// internal/iolimits): a larger manifest or layer is an error there too.
const (
	maxAttachmentManifestSize = 4 << 20
	// MaxAttachmentSize is the largest attachment layer read.
	MaxAttachmentSize = 4 << 20
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

// Attachments fetches the cosign signatures attached to manifest d (the
// top-level manifest or one instance) in the legacy layout, as Signatures
// does, with a budget of its own.
func (img *Image) Attachments(ctx context.Context, d digest.Digest) ([]Attachment, error) {
	sigs, err := img.Signatures(ctx, d, protocol.NewSignatureBudget(0), attachmentsOnly)
	if err != nil {
		return nil, err
	}
	return sigs.Attachments, nil
}

// attachmentPlan is what fetchAttachments decided from the .sig manifest.
type attachmentPlan struct {
	layers  []imgspecv1.Descriptor // the ones the budget took, in order
	leftOut int
}

// planAttachments reads the attachment manifest sha256-<hex>.sig of d where
// containers/image reads it, parses it with containers/image's parser, and
// offers each layer, in order, to budget at the cost its descriptor
// announces: only what it takes is read (fetchAttachments). No such tag is
// no attachments.
func planAttachments(ctx context.Context, src *referrersSource, d digest.Digest, budget *protocol.SignatureBudget) (*attachmentPlan, error) {
	tag := src.repo.Tag(strings.Replace(d.String(), ":", "-", 1) + ".sig")
	got, err := src.puller.Get(withBodyLimit(ctx, maxAttachmentManifestSize), tag)
	if terr := (*transport.Error)(nil); errors.As(err, &terr) && manifestUnknown(terr) {
		return &attachmentPlan{}, nil
	}
	if err != nil {
		return nil, err
	}
	if got.MediaType != imgspecv1.MediaTypeImageManifest {
		return nil, fmt.Errorf("unexpected MIME type for sigstore attachment manifest %s: %q", tag, got.MediaType)
	}
	untrustedManifest, err := manifest.OCI1FromManifest(got.Manifest)
	if err != nil {
		return nil, fmt.Errorf("parsing manifest %s: %w", tag, err)
	}
	plan := &attachmentPlan{}
	for i, layer := range untrustedManifest.Layers {
		if budget.Full() {
			budget.Skip()
			plan.leftOut++
			continue
		}
		if err := layer.Digest.Validate(); err != nil || layer.Digest.Algorithm() != digest.SHA256 {
			return nil, fmt.Errorf("%s layer %d: digest %q, want a sha256 digest", tag, i, layer.Digest)
		}
		if layer.Size <= 0 || layer.Size > MaxAttachmentSize {
			return nil, fmt.Errorf("%s layer %d: size %d, want 1 to %d", tag, i, layer.Size, MaxAttachmentSize)
		}
		if !budget.Take(protocol.AttachmentCost(layer.MediaType, layer.Size, layer.Annotations)) {
			plan.leftOut++
			continue
		}
		plan.layers = append(plan.layers, layer)
	}
	return plan, nil
}

// fetchAttachments reads the layers plan took.
func fetchAttachments(ctx context.Context, src *referrersSource, plan *attachmentPlan) ([]Attachment, error) {
	attachments := make([]Attachment, 0, len(plan.layers))
	for _, layer := range plan.layers {
		h, err := v1.NewHash(layer.Digest.String())
		if err != nil {
			return nil, err
		}
		untrustedPayload, err := fetchBlob(ctx, src, v1.Descriptor{Digest: h, Size: layer.Size}, MaxAttachmentSize)
		if err != nil {
			return nil, fmt.Errorf("attachment %s: %w", layer.Digest, err)
		}
		attachments = append(attachments, Attachment{MIMEType: layer.MediaType, Payload: untrustedPayload, Annotations: layer.Annotations})
	}
	return attachments, nil
}

// manifestUnknown is containers/image's isManifestUnknownError: a 404, or a
// MANIFEST_UNKNOWN error, means there is no such tag.
func manifestUnknown(err *transport.Error) bool {
	if err.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range err.Errors {
		if d.Code == transport.ManifestUnknownErrorCode {
			return true
		}
	}
	return false
}
