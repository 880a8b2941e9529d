package check

import (
	"fmt"
	"io"
	"strings"
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
	if len(r.SignatureFormats) == 0 {
		b.WriteString("signatures: not collected (no plugin requirement applies)\n")
	} else {
		fmt.Fprintf(&b, "signatures: %d found (%s)\n", len(r.Signatures), strings.Join(r.SignatureFormats, ", "))
	}
	for _, s := range r.Signatures {
		fmt.Fprintf(&b, "  [%d] %s from %s", s.Index, s.Format, s.Source)
		if s.Skipped != "" {
			fmt.Fprintf(&b, " (%s)", s.Skipped)
		}
		b.WriteString("\n")
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
		fmt.Fprintf(&b, "  %s\n", req.Reason)
		for _, s := range req.Signatures {
			verdict := "rejected"
			if s.Accepted {
				verdict = "accepted"
			}
			fmt.Fprintf(&b, "  signature [%d] %s: %s\n", s.Signature, verdict, s.Reason)
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
