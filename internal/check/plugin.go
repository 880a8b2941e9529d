package check

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/policy-plugins/sigstore/internal/policy"
	"github.com/policy-plugins/sigstore/internal/registry"
	"github.com/policy-plugins/sigstore/protocol"
)

// evaluatePlugin runs one plugin requirement through the host package, which
// believes only a well-formed answer about this exact manifest (and index),
// and reports the plugin's verdict on each signature in the report's
// numbering. The plugin starts at once; its request is sent when image has
// what it is made of. The error is a *SetupError (no verdict: the policy
// cannot be used for this image): an INVALID_CONFIG answer, or a plugin that
// cannot be run at all.
func evaluatePlugin(ctx context.Context, host *protocol.Host, dockerReference string, image *pendingImage, r policy.Requirement) (Requirement, error) {
	out := Requirement{Path: r.Path, Type: r.Type, Plugin: r.Plugin, Signatures: []SignatureResult{}}
	var (
		data             *imageData
		sent, sentOfIndx []int // request index -> report index, per list
	)
	d, err := host.VerifyGathered(ctx, r.Plugin, func(ctx context.Context) (*protocol.VerifyRequest, error) {
		got, err := image.wait(ctx)
		if err != nil {
			return nil, err
		}
		var req *protocol.VerifyRequest
		req, sent, sentOfIndx = verifyRequest(r, dockerReference, got)
		data = got
		return req, nil
	})
	out.Reason = d.Reason
	var perr *protocol.PluginError
	switch {
	case errors.As(err, &perr) && (perr.Code == protocol.CodeInvalidConfig || perr.Command == ""):
		// A host that pulls runs no validate-config: verify carries the
		// config, and an invalid one, like a plugin that is not installed
		// or not a file the host may run (nothing ran), fails the images of
		// this scope as an error, not a rejection, as an unreadable
		// sigstoreSigned keyPath does.
		return out, &SetupError{Err: fmt.Errorf("policy %s: %w", r.Path, err)}
	case err != nil:
		out.Outcome = OutcomeFailed
	case d.Accepted:
		out.Outcome = OutcomeAccepted
	default:
		out.Outcome = OutcomeRejected
	}
	if data == nil {
		return out, nil // no image to ask about: check reports why, not this outcome
	}
	var untrustedImage, untrustedIndex []protocol.SignatureResult
	if resp := d.Response; resp != nil {
		// The host checked there is exactly one result per signature sent, in
		// each list, and that the accepted one is of the list via names.
		untrustedImage, untrustedIndex = resp.Signatures, resp.IndexSignatures
		if a := resp.Accepted; a != nil {
			list := sent
			if a.Via == protocol.AcceptedViaIndex {
				list = sentOfIndx
			}
			out.AcceptedSignature = sanitizeAccepted(*a, list[a.Signature])
			out.AcceptedVia = out.AcceptedSignature.Via
		}
	}
	out.Signatures = signatureResults(data.sigs, sent, untrustedImage)
	if data.untrustedIndex != nil {
		out.IndexSignatures = signatureResults(data.indexSigs, sentOfIndx, untrustedIndex)
	}
	return out, nil
}

// signatureResults is one result per signature found: the plugin's for
// those sent (sent maps the request's numbering to the report's), why not
// for the others. Without an answer (untrusted nil) only the signatures that
// were not sent have a result, saying why.
func signatureResults(sigs *collected, sent []int, untrusted []protocol.SignatureResult) []SignatureResult {
	isSent := make([]bool, len(sigs.found))
	for _, i := range sent {
		isSent[i] = true
	}
	answers := map[int]protocol.SignatureResult{}
	for k, u := range untrusted {
		answers[sent[k]] = u
	}
	out := []SignatureResult{}
	for i, f := range sigs.found {
		switch u, ok := answers[i]; {
		case ok:
			out = append(out, SignatureResult{Signature: i, Accepted: u.Accepted, Reason: protocol.OneLine(u.Reason)})
		case !isSent[i]:
			out = append(out, SignatureResult{Signature: i, Reason: cmp.Or(f.Skipped, pastBudget)})
		}
	}
	return out
}

// pastBudget is the reason of an index signature a request has no room for
// (protocol.SignatureBudget).
var pastBudget = fmt.Sprintf("not sent to plugins: past what one request carries (%d signature entries, %d MiB, the image's and the index's together)",
	protocol.MaxSignatures, protocol.MaxRequestBytes>>20)

// verifyRequest is what requirement r's plugin is asked about the evaluated
// manifest, as the patched containers/image does (patches 0001 and 0003):
// the manifest's exact bytes, the normalized reference, and every signature
// found, in the order found (cosign attachments, then bundles), whatever the
// plugin's metadata would list: the protocol has a plugin reject an entry of
// a format it does not take, and the others still count, so containers/image
// never runs metadata, and neither does check. An instance chosen from an
// index goes with that index's exact bytes and the signatures of the index
// the request's budget took (data.indexTaken; the image's were read within
// it). sent and sentOfIndex map the request's signatures to the report's (a
// bundle that cannot be sent is left out).
func verifyRequest(r policy.Requirement, dockerReference string, data *imageData,
) (req *protocol.VerifyRequest, sent, sentOfIndex []int) {
	req = &protocol.VerifyRequest{
		Config: r.Config,
		Image: protocol.Image{
			Transport: "docker", DockerReference: &dockerReference,
			Manifest: data.untrustedManifest.Bytes, ManifestMIMEType: data.untrustedManifest.MIMEType,
		},
		Signatures: []protocol.Signature{},
	}
	req.Signatures, sent = sendable(data.sigs, nil)
	if data.untrustedIndex != nil {
		index := &protocol.Index{Manifest: data.untrustedIndex.Bytes, ManifestMIMEType: data.untrustedIndex.MIMEType}
		index.Signatures, sentOfIndex = sendable(data.indexSigs, data.indexTaken)
		req.Image.Index = index
	}
	return req, sent, sentOfIndex
}

// sendable are the signatures of c a request carries, and their numbers in
// c: those not Skipped, and, when taken is not nil, taken.
func sendable(c *collected, taken []bool) ([]protocol.Signature, []int) {
	sigs, numbers := []protocol.Signature{}, []int(nil)
	for i, f := range c.found {
		if f.Skipped == "" && (taken == nil || taken[i]) {
			sigs = append(sigs, c.request[i])
			numbers = append(numbers, i)
		}
	}
	return sigs, numbers
}

// sanitizeAccepted renumbers the plugin's accepted signature into the
// report's numbering and keeps its texts on one line.
func sanitizeAccepted(untrusted protocol.Accepted, index int) *protocol.Accepted {
	clean := func(s *string) *string {
		if s == nil {
			return nil
		}
		c := protocol.OneLine(*s)
		return &c
	}
	return &protocol.Accepted{
		Via: protocol.OneLine(untrusted.Via), Signature: index, Format: protocol.OneLine(untrusted.Format),
		Issuer: clean(untrusted.Issuer), Subject: clean(untrusted.Subject), PublicKey: clean(untrusted.PublicKey),
		SignedReference: clean(untrusted.SignedReference), Time: clean(untrusted.Time),
	}
}

// imageData is what every verify request about one evaluated manifest is
// made of: the manifest and its signatures, and, for an instance chosen from
// an index, the index and its signatures. All of it is untrusted: the
// plugin judges it.
type imageData struct {
	untrustedManifest registry.Manifest
	sigs              *collected
	untrustedIndex    *registry.Manifest // nil: none
	indexSigs         *collected
	// indexTaken says which of indexSigs the request's budget took.
	indexTaken []bool
}
