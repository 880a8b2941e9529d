package check

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/policy-plugins/sigstore/internal/registry"
	"github.com/policy-plugins/sigstore/protocol"
)

// collected are the candidate signatures of one manifest: what the report
// shows (found) and, in the same order, what plugins are sent (request);
// formats are the formats looked for, as the report lists them.
type collected struct {
	found   []FoundSignature
	request []protocol.Signature
	formats []string
}

// lookedFor are the formats fetchSignatures looks for where registries.d
// lets it, in the report's (sorted) order.
var lookedFor = []string{protocol.FormatSigstoreBundle, protocol.FormatSigstoreJSON}

// fetchSignatures fetches the signatures of manifest m in every format, as
// the patched containers/image does for a plugin requirement, and only where
// registries.d sets use-sigstore-attachments for the registry or repository
// (the same switch for both, as there): cosign attachments (sigstore-json,
// read by containers/image itself) and Sigstore-bundle referrers
// (sigstore-bundle; the OCI referrers API, or the referrers tag where the
// registry has no API). The two lookups use different clients and run at
// once. A registry failure for either is an error: "no signatures" must
// never stand for "could not look".
//
// sendable is the plugin's rule for a bundle at the place the signatures go
// in a request: protocol.SendableBundle for the evaluated image's,
// protocol.SendableIndexBundle for its index's (two levels deeper).
func fetchSignatures(ctx context.Context, img *registry.Image, m registry.Manifest, sendable func([]byte) error) (*collected, error) {
	var (
		wg                         sync.WaitGroup
		untrustedAttachments       []registry.Attachment
		untrustedBundles           []registry.Bundle
		bundlesLookedFor           bool
		attachmentsErr, bundlesErr error
	)
	wg.Go(func() { untrustedAttachments, attachmentsErr = img.Attachments(ctx, m.Digest) })
	wg.Go(func() { untrustedBundles, bundlesLookedFor, bundlesErr = img.Bundles(ctx, m.Digest) })
	wg.Wait()
	if err := errors.Join(attachmentsErr, bundlesErr); err != nil {
		return nil, err
	}
	c := &collected{found: []FoundSignature{}, formats: []string{}}
	// Bundles applies registries.d as containers/image applies it to the
	// attachments (registry.TestSignaturesFollowRegistriesD), so it says for
	// both formats whether they were looked for.
	if bundlesLookedFor {
		c.formats = slices.Clone(lookedFor)
	}
	sigTag := strings.Replace(m.Digest.String(), ":", "-", 1) + ".sig"
	for i, a := range untrustedAttachments {
		c.add(FoundSignature{
			Format: protocol.FormatSigstoreJSON, MediaType: a.MIMEType,
			Source: fmt.Sprintf("%s layer %d", sigTag, i),
		},
			protocol.Signature{Format: protocol.FormatSigstoreJSON, MIMEType: a.MIMEType, Payload: a.Payload, Annotations: a.Annotations})
	}
	for _, b := range untrustedBundles {
		c.addBundle(b, sendable)
	}
	return c, nil
}

// addBundle adds bundle b, marked Skipped when a plugin would refuse a request
// carrying it (sendable, protocol.SendableBundle or SendableIndexBundle:
// anything the plugin's decoder refuses in a bundle, nesting counted from the
// request's root included). Sending it
// would make the plugin refuse the whole request, so that anyone who can
// push a referrer could block every signature. Leave it out.
func (c *collected) addBundle(b registry.Bundle, sendable func([]byte) error) {
	found := FoundSignature{Format: protocol.FormatSigstoreBundle, MediaType: b.MediaType, Source: "referrer " + b.Referrer.String()}
	if err := sendable(b.JSON); err != nil {
		found.Skipped = "not sent to plugins: " + protocol.OneLine(err.Error())
	}
	c.add(found, protocol.Signature{Format: protocol.FormatSigstoreBundle, MediaType: b.MediaType, Bundle: b.JSON})
}

func (c *collected) add(f FoundSignature, s protocol.Signature) {
	f.Index = len(c.found)
	c.found = append(c.found, f)
	c.request = append(c.request, s)
}
