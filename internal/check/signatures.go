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
	// leftOut counts the candidates past the request's budget: left out
	// unread, as a host leaves them out; indexLeftOut, a referrers index too
	// large to read.
	leftOut      int
	indexLeftOut bool
}

// lookedFor are the formats fetchSignatures looks for where registries.d
// lets it, in the report's (sorted) order.
var lookedFor = []string{protocol.FormatSigstoreBundle, protocol.FormatSigstoreJSON}

// Room kept in a request for what is not a signature: the manifests are
// counted as they are; the plugin config and the envelope get configRoom. A
// config larger than that can make a request too large for the host, which
// is then an error, never a verdict.
const configRoom = 1 << 20

// requestBudget is the signature budget of one plugin request about m (and
// the index it was chosen from, or nil).
func requestBudget(m registry.Manifest, index *registry.Manifest) *protocol.SignatureBudget {
	reserved := protocol.EncodedBytesLen(int64(len(m.Bytes))) + configRoom
	if index != nil {
		reserved += protocol.EncodedBytesLen(int64(len(index.Bytes)))
	}
	return protocol.NewSignatureBudget(reserved)
}

// fetchSignatures fetches the signatures of manifest m in every format, as
// the patched containers/image does for a plugin requirement, and only where
// registries.d sets use-sigstore-attachments for the registry or repository
// (the same switch for both, as there): cosign attachments (sigstore-json,
// the .sig layers) and Sigstore-bundle referrers (sigstore-bundle; the OCI
// referrers API, or the referrers tag where the registry has no API), both
// read by registry.Image.Signatures within budget: what a request could not
// carry is never read. A registry failure for either is an error: "no
// signatures" must never stand for "could not look".
//
// sendable is the plugin's rule for a bundle at the place the signatures go
// in a request: protocol.SendableBundle for the evaluated image's,
// protocol.SendableIndexBundle for its index's (two levels deeper).
//
// index, when not nil, is the index m was chosen from, whose signatures go
// in the same request: budget is offered them in a host's order (m's
// attachments, the index's, m's bundles, the index's), and taken says which
// of index's entries this request carries.
func fetchSignatures(ctx context.Context, img *registry.Image, m registry.Manifest, sendable func([]byte) error,
	budget *protocol.SignatureBudget, index *pendingIndex,
) (c *collected, taken []bool, err error) {
	var (
		sigs       *registry.Signatures
		indexSigs  *collected
		attachedTo bool // the index's attachments were offered
	)
	if index == nil {
		sigs, err = img.Signatures(ctx, m.Digest, budget)
	} else {
		sigs, err = img.SignaturesAround(ctx, m.Digest, budget, nil, func(ctx context.Context) error {
			var err error
			if indexSigs, err = index.wait(ctx); err != nil {
				return err
			}
			taken = make([]bool, len(indexSigs.found))
			indexSigs.offer(budget, protocol.FormatSigstoreJSON, taken)
			attachedTo = true
			return nil
		})
	}
	if err != nil {
		return nil, nil, err
	}
	if index != nil {
		if !attachedTo { // registries.d let nothing be looked for here
			if indexSigs, err = index.wait(ctx); err != nil {
				return nil, nil, err
			}
			taken = make([]bool, len(indexSigs.found))
			indexSigs.offer(budget, protocol.FormatSigstoreJSON, taken)
		}
		indexSigs.offer(budget, protocol.FormatSigstoreBundle, taken)
	}
	return collect(m, sigs, sendable), taken, nil
}

// collect is what the report shows of sigs, the signatures of m, and what
// plugins are sent.
func collect(m registry.Manifest, sigs *registry.Signatures, sendable func([]byte) error) *collected {
	c := &collected{
		found: []FoundSignature{}, formats: []string{},
		leftOut: sigs.AttachmentsLeftOut + sigs.BundlesLeftOut, indexLeftOut: sigs.ReferrersIndexLeftOut,
	}
	// Signatures applies registries.d as containers/image applies it to the
	// attachments (registry.TestSignaturesFollowRegistriesD), so it says for
	// both formats whether they were looked for.
	if sigs.LookedFor {
		c.formats = slices.Clone(lookedFor)
	}
	sigTag := strings.Replace(m.Digest.String(), ":", "-", 1) + ".sig"
	for i, a := range sigs.Attachments {
		c.add(FoundSignature{
			Format: protocol.FormatSigstoreJSON, MediaType: a.MIMEType,
			Source: fmt.Sprintf("%s layer %d", sigTag, i),
		},
			protocol.Signature{Format: protocol.FormatSigstoreJSON, MIMEType: a.MIMEType, Payload: a.Payload, Annotations: a.Annotations})
	}
	for _, b := range sigs.Bundles {
		c.addBundle(b, sendable)
	}
	return c
}

// offer offers budget c's entries of format that can be sent, in order, at
// what they add to a request, and marks in taken those it takes. c was read
// already (an index's signatures, read once for every request about an
// instance chosen from it), so the costs are the real ones.
func (c *collected) offer(budget *protocol.SignatureBudget, format string, taken []bool) {
	for i, s := range c.request {
		if s.Format != format || c.found[i].Skipped != "" {
			continue
		}
		cost := protocol.BundleCost(s.MediaType, int64(len(s.Bundle)))
		if format == protocol.FormatSigstoreJSON {
			cost = protocol.AttachmentCost(s.MIMEType, int64(len(s.Payload)), s.Annotations)
		}
		taken[i] = budget.Take(cost)
	}
}

// fetchWithIndex reads the signatures of the one request about instance m,
// chosen from index, within the request's budget, in a host's order (m's
// attachments, the index's, m's bundles, the index's), both manifests' at
// once: what the request cannot carry is never read, of either.
func fetchWithIndex(ctx context.Context, img *registry.Image, m, index registry.Manifest) (sigs, indexSigs *collected, err error) {
	budget := requestBudget(m, &index)
	instanceAttachments, indexAttachments, instanceDone := newGate(), newGate(), newGate()
	var (
		wg                 sync.WaitGroup
		untrustedIndexSigs *registry.Signatures
		indexErr           error
		untrustedOwnSigs   *registry.Signatures
		instanceErr        error
	)
	wg.Go(func() {
		defer indexAttachments.open()
		untrustedIndexSigs, indexErr = img.SignaturesAround(ctx, index.Digest, budget, instanceAttachments.wait, func(ctx context.Context) error {
			indexAttachments.open()
			return instanceDone.wait(ctx)
		})
	})
	untrustedOwnSigs, instanceErr = img.SignaturesAround(ctx, m.Digest, budget, nil, func(ctx context.Context) error {
		instanceAttachments.open()
		return indexAttachments.wait(ctx)
	})
	instanceAttachments.open()
	instanceDone.open()
	wg.Wait()
	if err := errors.Join(instanceErr, indexErr); err != nil {
		return nil, nil, err
	}
	return collect(m, untrustedOwnSigs, protocol.SendableBundle), collect(index, untrustedIndexSigs, protocol.SendableIndexBundle), nil
}

// gate is a point one reading waits for another to reach.
type gate struct {
	ch   chan struct{}
	open func()
}

func newGate() *gate {
	ch := make(chan struct{})
	return &gate{ch: ch, open: sync.OnceFunc(func() { close(ch) })}
}

func (g *gate) wait(ctx context.Context) error {
	select {
	case <-g.ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pendingIndex is the index's signatures, read once for every request
// about an instance chosen from it (--platform all: one request per
// instance), with the room a request has besides the instance's manifest.
// Each request then takes of them what fits at their places in its order
// (fetchSignatures); no request can carry more than was read.
type pendingIndex struct {
	done chan struct{}
	sigs *collected
	err  error
}

func readIndex(ctx context.Context, img *registry.Image, index registry.Manifest) *pendingIndex {
	p := &pendingIndex{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		var sigs *registry.Signatures
		if sigs, p.err = img.Signatures(ctx, index.Digest, requestBudget(registry.Manifest{}, &index)); p.err == nil {
			p.sigs = collect(index, sigs, protocol.SendableIndexBundle)
		}
	}()
	return p
}

func (p *pendingIndex) wait(ctx context.Context) (*collected, error) {
	select {
	case <-p.done:
		return p.sigs, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
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
