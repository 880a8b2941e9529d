package check

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/policy-plugins/sigstore/internal/policy"
	"github.com/policy-plugins/sigstore/protocol"
)

// WriteText writes the report for people: what was evaluated, then per
// evaluated image, per requirement and per signature what passed and why
// not, then the verdict.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "image:      %s\n", r.Image)
	if r.DockerReference != r.Image {
		fmt.Fprintf(&b, "reference:  %s\n", r.DockerReference)
	}
	fmt.Fprintf(&b, "policy:     %s, scope %s\n", r.Policy, r.Scope.Path)
	fmt.Fprintf(&b, "manifest:   %s (%s)\n", r.Manifest.Digest, r.Manifest.MediaType)
	isIndex := r.Manifest.Kind == "index"
	if isIndex {
		fmt.Fprintf(&b, "            an index of %d instances; the policy is evaluated on %s:\n", len(r.Manifest.Instances), r.evaluatedWhat())
		for _, in := range r.Manifest.Instances {
			fmt.Fprintf(&b, "              %s %s\n", in.Digest, orNone(in.Platform, "(no platform)"))
		}
	}
	anyPlugin := slices.ContainsFunc(r.Images, func(im Evaluated) bool {
		return slices.ContainsFunc(im.Requirements, func(req Requirement) bool { return req.Type == policy.TypePlugin })
	})
	if isIndex && anyPlugin {
		r.writeSignatures(&b, "index signatures", r.IndexSignatures)
		writeLeftOut(&b, r.IndexSignaturesLeftOut, r.IndexReferrersIndexLeftOut)
	}
	warned := false
	rejectedImages := 0
	for _, im := range r.Images {
		if isIndex {
			fmt.Fprintf(&b, "instance:   %s (%s) %s\n", im.Digest, im.MediaType, orNone(im.Platform, "(no platform)"))
		}
		if anyPlugin {
			r.writeSignatures(&b, "signatures", im.Signatures)
			writeLeftOut(&b, im.SignaturesLeftOut, im.ReferrersIndexLeftOut)
		} else {
			b.WriteString("signatures: not collected (no plugin requirement applies)\n")
		}
		if !warned {
			for _, p := range r.Warnings {
				fmt.Fprintf(&b, "warning: %s: %s\n", p.Path, p.Message)
			}
			warned = true
		}
		failed := 0
		for _, req := range im.Requirements {
			if req.writeText(&b, im.Index != "") {
				failed++
			}
		}
		if !im.Accepted {
			rejectedImages++
		}
		if len(r.Images) > 1 {
			b.WriteString("instance " + verdictLine(im.Verdict, im.Accepted, len(im.Requirements), failed))
		} else {
			b.WriteString(verdictLine(r.Verdict, r.Accepted, len(im.Requirements), failed))
		}
	}
	if len(r.Images) > 1 {
		if r.Accepted {
			fmt.Fprintf(&b, "verdict: %s (all %d instances accepted)\n", r.Verdict, len(r.Images))
		} else {
			fmt.Fprintf(&b, "verdict: %s (%d of %d instances did not accept)\n", r.Verdict, rejectedImages, len(r.Images))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// evaluatedWhat says which of an index's instances were evaluated.
func (r *Report) evaluatedWhat() string {
	switch r.Platform {
	case PlatformAll:
		return "each, as skopeo copy --all copies them"
	case "":
		return "the one podman pull chooses for this machine (--platform for another)"
	default:
		return "the one podman pull --platform " + r.Platform + " chooses"
	}
}

// writeSignatures writes the signatures found, under title.
func (r *Report) writeSignatures(b *strings.Builder, title string, sigs []FoundSignature) {
	if len(r.SignatureFormats) == 0 {
		fmt.Fprintf(b, "%s: %d found (none looked for: registries.d does not set use-sigstore-attachments for this registry or repository)\n", title, len(sigs))
	} else {
		fmt.Fprintf(b, "%s: %d found (%s)\n", title, len(sigs), strings.Join(r.SignatureFormats, ", "))
	}
	for _, s := range sigs {
		fmt.Fprintf(b, "  [%d] %s from %s", s.Index, s.Format, s.Source)
		if s.Skipped != "" {
			fmt.Fprintf(b, " (%s)", s.Skipped)
		}
		b.WriteString("\n")
	}
}

// writeLeftOut says what of one manifest's signatures was left out unread.
func writeLeftOut(b *strings.Builder, leftOut int, referrersIndex bool) {
	if referrersIndex {
		b.WriteString("  the referrers index is larger than 4 MiB: left out unread, with every bundle it lists\n")
	}
	if leftOut > 0 {
		fmt.Fprintf(b, "  and %d more left out unread: past what one plugin request may carry (1000 signatures, 64 MiB), as a host leaves them out\n", leftOut)
	}
}

// writeText writes one requirement's outcome and says whether it did not
// accept. withIndex: the image was chosen from an index, whose signatures
// went along.
func (req Requirement) writeText(b *strings.Builder, withIndex bool) (failed bool) {
	what := req.Type
	if req.Plugin != "" {
		what = "plugin " + req.Plugin
	}
	fmt.Fprintf(b, "requirement %s (%s): %s", req.Path, what, req.Outcome)
	switch {
	case req.AcceptedVia == protocol.AcceptedViaIndex:
		b.WriteString(" through the index's signature")
	case req.AcceptedVia == protocol.AcceptedViaImage && withIndex:
		b.WriteString(" through the image's own signature")
	}
	b.WriteString("\n")
	if !req.signaturesExplain() {
		fmt.Fprintf(b, "  %s\n", req.Reason)
	}
	for _, s := range req.Signatures {
		fmt.Fprintf(b, "  signature [%d] %s\n", s.Signature, req.signatureLine(s, protocol.AcceptedViaImage))
	}
	for _, s := range req.IndexSignatures {
		fmt.Fprintf(b, "  index signature [%d] %s\n", s.Signature, req.signatureLine(s, protocol.AcceptedViaIndex))
	}
	return req.Outcome != OutcomeAccepted
}

func verdictLine(verdict string, accepted bool, requirements, failed int) string {
	switch {
	case requirements == 0:
		return fmt.Sprintf("verdict: %s (the scope has no requirements)\n", verdict)
	case accepted:
		return fmt.Sprintf("verdict: %s (%s accepted)\n", verdict, countRequirements(requirements, true))
	default:
		return fmt.Sprintf("verdict: %s (%d of %s did not accept)\n", verdict, failed, countRequirements(requirements, false))
	}
}

func countRequirements(n int, all bool) string {
	switch {
	case n == 1 && all:
		return "the 1 requirement"
	case n == 1:
		return "1 requirement"
	case all:
		return fmt.Sprintf("all %d requirements", n)
	default:
		return fmt.Sprintf("%d requirements", n)
	}
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

// signaturesExplain says whether the per-signature lines say all the
// requirement's reason says: the accepted signature names what accepted it,
// or every signature has its own rejection. A plugin's requirement reason
// repeats them (signature 0 accepted: ..., no signature accepted: signature
// 0: ...), in the plugin's numbering, not the report's.
func (req Requirement) signaturesExplain() bool {
	all := slices.Concat(req.Signatures, req.IndexSignatures)
	switch {
	case len(all) == 0:
		return false
	case req.Outcome == OutcomeAccepted:
		return req.AcceptedSignature != nil
	case req.Outcome == OutcomeRejected:
		for _, s := range all {
			if s.Accepted || s.Reason == protocol.NotEvaluated {
				return false
			}
		}
		return true
	default: // failed: the failure is not any signature's
		return false
	}
}

// signatureLine is the verdict on one signature, after its index: what
// accepted it (issuer and subject, or public key; the reference it names; the
// verified time) or why not.
func (req Requirement) signatureLine(s SignatureResult, via string) string {
	a := req.AcceptedSignature
	switch {
	case a != nil && cmp.Or(a.Via, protocol.AcceptedViaImage) == via && a.Signature == s.Signature && s.Accepted:
		var parts []string
		if a.Subject != nil {
			parts = append(parts, "issuer "+orNone(deref(a.Issuer), "(none)"), "subject "+*a.Subject)
		}
		if a.PublicKey != nil {
			parts = append(parts, "public key "+*a.PublicKey)
		}
		if a.SignedReference != nil {
			parts = append(parts, "signed reference "+*a.SignedReference)
		} else {
			parts = append(parts, "names no reference (digest only)")
		}
		if a.Time != nil {
			parts = append(parts, "verified time "+*a.Time)
		}
		return "accepted: " + strings.Join(parts, ", ")
	case s.Accepted:
		return "accepted: " + s.Reason
	case s.Reason == protocol.NotEvaluated:
		return "not evaluated"
	default:
		return "rejected: " + s.Reason
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
