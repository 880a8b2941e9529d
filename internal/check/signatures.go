package check

import (
	"context"
	"fmt"
	"slices"
	"strings"

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
	// leftOut counts the candidates past the request's budget: left out
	// unread, as a host leaves them out; indexLeftOut, a referrers index too
	// large to read.
	leftOut      int
	indexLeftOut bool
}

// Room kept in a request for what is not a signature: the manifest, an index
// manifest (as large as containers/image reads one), the plugin config and
// the envelope. A config larger than configRoom can make a request too large
// for the host, which is then an error, never a verdict.
const (
	maxIndexManifestSize = 4 << 20
	configRoom           = 1 << 20
)

func requestReserve(m registry.Manifest) int64 {
	return protocol.EncodedBytesLen(int64(len(m.Bytes))) + protocol.EncodedBytesLen(maxIndexManifestSize) + configRoom
}

// lookedFor are the formats fetchSignatures looks for where registries.d
// lets it, in the report's (sorted) order.
var lookedFor = []string{protocol.FormatSigstoreBundle, protocol.FormatSigstoreJSON}

// fetchSignatures fetches the signatures of manifest m in every format, as
// the patched containers/image does for a plugin requirement, and only where
// registries.d sets use-sigstore-attachments for the registry or repository
// (the same switch for both, as there): cosign attachments (sigstore-json,
// the .sig layers) and Sigstore-bundle referrers (sigstore-bundle; the OCI
// referrers API, or the referrers tag where the registry has no API), both
// read by registry.Image.Signatures within one request's budget. A registry
// failure for either is an error: "no signatures" must never stand for
// "could not look".
func fetchSignatures(ctx context.Context, img *registry.Image, m registry.Manifest) (*collected, error) {
	// The budget is applied while reading, attachments first: what a
	// request could not carry is never read (protocol.SignatureBudget).
	budget := protocol.NewSignatureBudget(requestReserve(m))
	sigs, err := img.Signatures(ctx, m.Digest, budget)
	if err != nil {
		return nil, err
	}
	untrustedAttachments, untrustedBundles, bundlesLookedFor := sigs.Attachments, sigs.Bundles, sigs.LookedFor
	c := &collected{
		found: []FoundSignature{}, formats: []string{}, leftOut: sigs.AttachmentsLeftOut + sigs.BundlesLeftOut,
		indexLeftOut: sigs.ReferrersIndexLeftOut,
	}
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
		c.addBundle(b)
	}
	return c, nil
}

// addBundle adds bundle b, marked Skipped when a plugin would refuse a request
// carrying it (protocol.SendableBundle: anything the plugin's decoder refuses
// in a bundle, nesting counted from the request's root included). Sending it
// would make the plugin refuse the whole request, so that anyone who can
// push a referrer could block every signature. Leave it out.
func (c *collected) addBundle(b registry.Bundle) {
	found := FoundSignature{Format: protocol.FormatSigstoreBundle, MediaType: b.MediaType, Source: "referrer " + b.Referrer.String()}
	if err := protocol.SendableBundle(b.JSON); err != nil {
		found.Skipped = "not sent to plugins: " + protocol.OneLine(err.Error())
	}
	c.add(found, protocol.Signature{Format: protocol.FormatSigstoreBundle, MediaType: b.MediaType, Bundle: b.JSON})
}

func (c *collected) add(f FoundSignature, s protocol.Signature) {
	f.Index = len(c.found)
	c.found = append(c.found, f)
	c.request = append(c.request, s)
}
