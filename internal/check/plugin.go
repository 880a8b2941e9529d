package check

import (
	"context"

	"github.com/policy-plugins/sigstore/internal/policy"
	"github.com/policy-plugins/sigstore/internal/registry"
	"github.com/policy-plugins/sigstore/protocol"
)

// evaluatePlugin runs one plugin requirement through the host package, which
// believes only a well-formed answer about this exact manifest, and reports
// the plugin's verdict on each signature in the report's numbering. The
// plugin starts at once; its request is sent when image has what it is made of.
func evaluatePlugin(ctx context.Context, host *protocol.Host, dockerReference string, image *pendingImage, r policy.Requirement) Requirement {
	out := Requirement{Path: r.Path, Type: r.Type, Plugin: r.Plugin, Signatures: []SignatureResult{}}
	var (
		sigs *collected
		sent []int // request index -> report index
	)
	d, err := host.VerifyGathered(ctx, r.Plugin, func(ctx context.Context) (*protocol.VerifyRequest, error) {
		top, found, err := image.wait(ctx)
		if err != nil {
			return nil, err
		}
		var req *protocol.VerifyRequest
		req, sent = verifyRequest(r, dockerReference, top, found)
		sigs = found
		return req, nil
	})
	out.Reason = d.Reason
	switch {
	case err != nil:
		out.Outcome = OutcomeFailed
	case d.Accepted:
		out.Outcome = OutcomeAccepted
	default:
		out.Outcome = OutcomeRejected
	}
	if sigs == nil {
		return out // no image to ask about: check reports why, not this outcome
	}
	results := map[int]SignatureResult{}
	for i, f := range sigs.found {
		if f.Skipped != "" {
			results[i] = SignatureResult{Signature: i, Reason: f.Skipped}
		}
	}
	if d.Response != nil {
		// The host checked there is exactly one result per signature sent.
		for k, untrusted := range d.Response.Signatures {
			results[sent[k]] = SignatureResult{Signature: sent[k], Accepted: untrusted.Accepted, Reason: protocol.OneLine(untrusted.Reason)}
		}
		if a := d.Response.Accepted; a != nil {
			out.AcceptedSignature = sanitizeAccepted(*a, sent[a.Signature])
		}
	}
	for i := range sigs.found {
		if r, ok := results[i]; ok {
			out.Signatures = append(out.Signatures, r)
		}
	}
	return out
}

// verifyRequest is what requirement r's plugin is asked about the top-level manifest, as the
// patched containers/image does (patches 0001 and 0003): the manifest's
// exact bytes, the normalized reference, and every signature found, in the
// order found (cosign attachments, then bundles), whatever the plugin's
// metadata would list: the protocol has a plugin reject an entry of a format
// it does not take, and the others still count, so containers/image never
// runs metadata, and neither does check. sent maps the request's signatures
// to the report's (a bundle that cannot be sent is left out).
func verifyRequest(r policy.Requirement, dockerReference string, top registry.Manifest, sigs *collected,
) (req *protocol.VerifyRequest, sent []int) {
	req = &protocol.VerifyRequest{
		Config: r.Config,
		Image: protocol.Image{
			Transport: "docker", DockerReference: &dockerReference,
			Manifest: top.Bytes, ManifestMIMEType: top.MIMEType,
		},
		Signatures: []protocol.Signature{},
	}
	for i, f := range sigs.found {
		if f.Skipped == "" {
			req.Signatures = append(req.Signatures, sigs.request[i])
			sent = append(sent, i)
		}
	}
	return req, sent
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
		Signature: index, Format: protocol.OneLine(untrusted.Format),
		Issuer: clean(untrusted.Issuer), Subject: clean(untrusted.Subject), PublicKey: clean(untrusted.PublicKey),
		SignedReference: clean(untrusted.SignedReference), Time: clean(untrusted.Time),
	}
}
