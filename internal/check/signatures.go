package check

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

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

// fetched are the signatures of one manifest in each format looked for,
// or why they could not be had.
type fetched struct {
	m                          registry.Manifest
	untrustedAttachments       []registry.Attachment
	untrustedBundles           []registry.Bundle
	attachmentsErr, bundlesErr error
}

// fetchSignatures fetches the signatures of manifest m in the formats asked
// for: cosign attachments (sigstore-json; containers/image reads them only
// where registries.d sets use-sigstore-attachments, as podman does) and
// Sigstore-bundle referrers (sigstore-bundle; the OCI referrers API, or the
// referrers tag where the registry has no API). The two lookups use different
// clients and run at once.
func fetchSignatures(ctx context.Context, img *registry.Image, m registry.Manifest, formats map[string]bool) *fetched {
	f := &fetched{m: m}
	var wg sync.WaitGroup
	if formats[protocol.FormatSigstoreJSON] {
		wg.Go(func() { f.untrustedAttachments, f.attachmentsErr = img.Attachments(ctx, m.Digest) })
	}
	if formats[protocol.FormatSigstoreBundle] {
		wg.Go(func() { f.untrustedBundles, _, f.bundlesErr = img.Bundles(ctx, m.Digest) })
	}
	wg.Wait()
	return f
}

// collect lists the fetched signatures in formats. A registry failure for
// one of them is an error: "no signatures" must never stand for "could not
// look".
func (f *fetched) collect(formats map[string]bool) (*collected, error) {
	var errs []error
	if formats[protocol.FormatSigstoreJSON] {
		errs = append(errs, f.attachmentsErr)
	}
	if formats[protocol.FormatSigstoreBundle] {
		errs = append(errs, f.bundlesErr)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c := &collected{found: []FoundSignature{}}
	if formats[protocol.FormatSigstoreJSON] {
		sigTag := strings.Replace(f.m.Digest.String(), ":", "-", 1) + ".sig"
		for i, a := range f.untrustedAttachments {
			c.add(FoundSignature{
				Format: protocol.FormatSigstoreJSON, MediaType: a.MIMEType,
				Source: fmt.Sprintf("%s layer %d", sigTag, i),
			},
				protocol.Signature{Format: protocol.FormatSigstoreJSON, MIMEType: a.MIMEType, Payload: a.Payload, Annotations: a.Annotations})
		}
	}
	if formats[protocol.FormatSigstoreBundle] {
		for _, b := range f.untrustedBundles {
			found := FoundSignature{Format: protocol.FormatSigstoreBundle, MediaType: b.MediaType, Source: "referrer " + b.Referrer.String()}
			// One malformed bundle would make the whole request invalid
			// (plugins refuse duplicate keys and ill-formed strings anywhere),
			// so that anyone who can push a referrer could block every
			// signature. Leave it out.
			if err := sendableBundle(b.JSON); err != nil {
				found.Skipped = "not sent to plugins: " + protocol.OneLine(err.Error())
			}
			c.add(found, protocol.Signature{Format: protocol.FormatSigstoreBundle, MediaType: b.MediaType, Bundle: b.JSON})
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
