package check

import (
	"context"
	"fmt"
	"strings"

	"github.com/policy-plugins/sigstore/internal/registry"
	"github.com/policy-plugins/sigstore/protocol"
	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// collected are the candidate signatures of one manifest: what the report
// shows (found) and, in the same order, what plugins are sent (request).
type collected struct {
	found   []FoundSignature
	request []protocol.Signature
}

// collectSignatures fetches the signatures of manifest m in the formats asked
// for: cosign attachments (sigstore-json; containers/image reads them only
// where registries.d sets use-sigstore-attachments, as podman does) and
// Sigstore-bundle referrers (sigstore-bundle; the OCI referrers API, or the
// referrers tag where the registry has no API). A registry failure is an
// error: "no signatures" must never stand for "could not look".
func collectSignatures(ctx context.Context, img *registry.Image, m registry.Manifest, formats map[string]bool) (*collected, error) {
	c := &collected{found: []FoundSignature{}}
	if formats[protocol.FormatSigstoreJSON] {
		untrustedAttachments, err := img.Attachments(ctx, m.Digest)
		if err != nil {
			return nil, err
		}
		sigTag := strings.Replace(m.Digest.String(), ":", "-", 1) + ".sig"
		for i, a := range untrustedAttachments {
			c.add(FoundSignature{
				Format: protocol.FormatSigstoreJSON, MediaType: a.MIMEType,
				Source: fmt.Sprintf("%s layer %d", sigTag, i),
			},
				protocol.Signature{Format: protocol.FormatSigstoreJSON, MIMEType: a.MIMEType, Payload: a.Payload, Annotations: a.Annotations})
		}
	}
	if formats[protocol.FormatSigstoreBundle] {
		untrustedBundles, err := img.Bundles(ctx, m.Digest)
		if err != nil {
			return nil, err
		}
		for _, b := range untrustedBundles {
			f := FoundSignature{Format: protocol.FormatSigstoreBundle, MediaType: b.MediaType, Source: "referrer " + b.Referrer.String()}
			// One malformed bundle would make the whole request invalid
			// (plugins refuse duplicate keys and ill-formed strings anywhere),
			// so that anyone who can push a referrer could block every
			// signature. Leave it out.
			if err := sendableBundle(b.JSON); err != nil {
				f.Skipped = "not sent to plugins: " + protocol.OneLine(err.Error())
			}
			c.add(f, protocol.Signature{Format: protocol.FormatSigstoreBundle, MediaType: b.MediaType, Bundle: b.JSON})
		}
	}
	return c, nil
}

// sendableBundle applies to one bundle the document rules a plugin applies to
// the whole request (strictjson.ValidateText).
func sendableBundle(untrustedJSON []byte) error {
	return strictjson.ValidateText(untrustedJSON, "bundle")
}

func (c *collected) add(f FoundSignature, s protocol.Signature) {
	f.Index = len(c.found)
	c.found = append(c.found, f)
	c.request = append(c.request, s)
}
