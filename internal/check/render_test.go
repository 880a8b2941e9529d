package check

import (
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/protocol"
)

func TestWriteTextSaysPerRequirementAndPerSignatureWhatPassedAndWhy(t *testing.T) {
	r := &Report{
		Image: "busybox", DockerReference: "docker.io/library/busybox:latest", Policy: "policy.json",
		Scope:            Scope{Path: "default"},
		Manifest:         Manifest{Digest: "sha256:aa", MediaType: "application/vnd.oci.image.manifest.v1+json", Kind: "image"},
		SignatureFormats: []string{"sigstore-bundle", "sigstore-json"},
		Signatures: []FoundSignature{
			{Index: 0, Format: "sigstore-json", Source: "sha256-aa.sig layer 0"},
			{Index: 1, Format: "sigstore-bundle", Source: "referrer sha256:bb", Skipped: "not sent to plugins: bundle: duplicate key \"x\""},
		},
		Warnings: []Problem{{Path: "default[0].config.identities[0].subjectRegexp", Message: "has an unescaped '.'"}},
		Requirements: []Requirement{
			{
				Path: "default[0]", Type: "plugin", Plugin: "sigstore", Outcome: OutcomeRejected, Reason: "no signature accepted",
				Signatures: []SignatureResult{{Signature: 0, Reason: "certificate subject x matches no identity"}, {Signature: 1, Reason: "not sent to plugins: bundle: duplicate key \"x\""}},
			},
			{Path: "default[1]", Type: "plugin", Plugin: "other", Outcome: OutcomeFailed, Reason: `plugin "other" verify: timed out after 30s; its process group was killed`},
			{Path: "default[2]", Type: "insecureAcceptAnything", Outcome: OutcomeAccepted, Reason: "accepted without any check (insecureAcceptAnything)"},
		},
		Verdict: VerdictRejected,
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `image:      busybox
reference:  docker.io/library/busybox:latest
policy:     policy.json, scope default
manifest:   sha256:aa (application/vnd.oci.image.manifest.v1+json)
signatures: 2 found (sigstore-bundle, sigstore-json)
  [0] sigstore-json from sha256-aa.sig layer 0
  [1] sigstore-bundle from referrer sha256:bb (not sent to plugins: bundle: duplicate key "x")
warning: default[0].config.identities[0].subjectRegexp: has an unescaped '.'
requirement default[0] (plugin sigstore): rejected
  no signature accepted
  signature [0] rejected: certificate subject x matches no identity
  signature [1] rejected: not sent to plugins: bundle: duplicate key "x"
requirement default[1] (plugin other): failed
  plugin "other" verify: timed out after 30s; its process group was killed
requirement default[2] (insecureAcceptAnything): accepted
  accepted without any check (insecureAcceptAnything)
verdict: rejected (2 of 3 requirements did not accept)
`
	if b.String() != want {
		t.Errorf("WriteText:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestOneLineKeepsUntrustedTextOnOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                            "plain",
		"two\nlines":                       "two lines",
		"\x1b[31mred\x1b[0m":               "[31mred [0m",
		"tabs\tand\r\ncarriage   returns ": "tabs and carriage returns",
		"bad \xff utf-8":                   "bad \uFFFD utf-8",
	} {
		if got := protocol.OneLine(in); got != want {
			t.Errorf("protocol.OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
