package check

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/policy-plugins/sigstore/internal/policy"
	"github.com/policy-plugins/sigstore/protocol"
)

// WriteText writes the report for people: what was evaluated, then per
// requirement and per signature what passed and why not, then the verdict.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "image:      %s\n", r.Image)
	if r.DockerReference != r.Image {
		fmt.Fprintf(&b, "reference:  %s\n", r.DockerReference)
	}
	fmt.Fprintf(&b, "policy:     %s, scope %s\n", r.Policy, r.Scope.Path)
	fmt.Fprintf(&b, "manifest:   %s (%s)\n", r.Manifest.Digest, r.Manifest.MediaType)
	if r.Manifest.Kind == "index" {
		fmt.Fprintf(&b, "            an index of %d instances; the policy is evaluated on the index, as podman pull does:\n", len(r.Manifest.Instances))
		for _, in := range r.Manifest.Instances {
			fmt.Fprintf(&b, "              %s %s\n", in.Digest, orNone(in.Platform, "(no platform)"))
		}
	}
	switch {
	case !slices.ContainsFunc(r.Requirements, func(req Requirement) bool { return req.Type == policy.TypePlugin }):
		b.WriteString("signatures: not collected (no plugin requirement applies)\n")
	case len(r.SignatureFormats) == 0:
		fmt.Fprintf(&b, "signatures: %d found (none looked for: registries.d does not set use-sigstore-attachments for this registry or repository)\n", len(r.Signatures))
	default:
		fmt.Fprintf(&b, "signatures: %d found (%s)\n", len(r.Signatures), strings.Join(r.SignatureFormats, ", "))
	}
	for _, s := range r.Signatures {
		fmt.Fprintf(&b, "  [%d] %s from %s", s.Index, s.Format, s.Source)
		if s.Skipped != "" {
			fmt.Fprintf(&b, " (%s)", s.Skipped)
		}
		b.WriteString("\n")
	}
	if r.ReferrersIndexLeftOut {
		b.WriteString("  the referrers index is larger than 4 MiB: left out unread, with every bundle it lists\n")
	}
	if r.SignaturesLeftOut > 0 {
		fmt.Fprintf(&b, "  and %d more left out unread: past what one plugin request may carry (1000 signatures, 64 MiB), as a host leaves them out\n", r.SignaturesLeftOut)
	}
	for _, p := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s: %s\n", p.Path, p.Message)
	}
	failed := 0
	for _, req := range r.Requirements {
		what := req.Type
		if req.Plugin != "" {
			what = "plugin " + req.Plugin
		}
		fmt.Fprintf(&b, "requirement %s (%s): %s\n", req.Path, what, req.Outcome)
		if !req.signaturesExplain() {
			fmt.Fprintf(&b, "  %s\n", req.Reason)
		}
		for _, s := range req.Signatures {
			fmt.Fprintf(&b, "  signature [%d] %s\n", s.Signature, req.signatureLine(s))
		}
		if req.Outcome != OutcomeAccepted {
			failed++
		}
	}
	switch {
	case len(r.Requirements) == 0:
		fmt.Fprintf(&b, "verdict: %s (the scope has no requirements)\n", r.Verdict)
	case r.Accepted:
		fmt.Fprintf(&b, "verdict: %s (%s accepted)\n", r.Verdict, countRequirements(len(r.Requirements), true))
	default:
		fmt.Fprintf(&b, "verdict: %s (%d of %s did not accept)\n", r.Verdict, failed, countRequirements(len(r.Requirements), false))
	}
	_, err := io.WriteString(w, b.String())
	return err
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
	switch {
	case len(req.Signatures) == 0:
		return false
	case req.Outcome == OutcomeAccepted:
		return req.AcceptedSignature != nil
	case req.Outcome == OutcomeRejected:
		for _, s := range req.Signatures {
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
func (req Requirement) signatureLine(s SignatureResult) string {
	a := req.AcceptedSignature
	switch {
	case a != nil && a.Signature == s.Signature && s.Accepted:
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
