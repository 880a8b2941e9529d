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
		Warnings:         []Problem{{Path: "default[0].config.identities[0].subjectRegexp", Message: "has an unescaped '.'"}},
		Images: []Evaluated{{Signatures: []FoundSignature{
			{Index: 0, Format: "sigstore-json", Source: "sha256-aa.sig layer 0"},
			{Index: 1, Format: "sigstore-bundle", Source: "referrer sha256:bb", Skipped: "not sent to plugins: bundle: duplicate key \"x\""},
		}, Requirements: []Requirement{
			{
				Path: "default[0]", Type: "plugin", Plugin: "sigstore", Outcome: OutcomeRejected, Reason: "no signature accepted",
				Signatures: []SignatureResult{{Signature: 0, Reason: "certificate subject x matches no identity"}, {Signature: 1, Reason: "not sent to plugins: bundle: duplicate key \"x\""}},
			},
			{Path: "default[1]", Type: "plugin", Plugin: "other", Outcome: OutcomeFailed, Reason: `plugin "other" verify: timed out after 30s; its process group was killed`},
			{Path: "default[2]", Type: "insecureAcceptAnything", Outcome: OutcomeAccepted, Reason: "accepted without any check (insecureAcceptAnything)"},
		}}},
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

func TestWriteTextSaysEachSignatureVerdictOnce(t *testing.T) {
	str := func(s string) *string { return &s }
	signatures := []FoundSignature{
		{Index: 0, Format: "sigstore-bundle", Source: "referrer sha256:bb", Skipped: "not sent to plugins: bundle: duplicate key \"x\""},
		{Index: 1, Format: "sigstore-json", Source: "sha256-aa.sig layer 0"},
		{Index: 2, Format: "sigstore-json", Source: "sha256-aa.sig layer 1"},
	}
	tests := []struct {
		name string
		req  Requirement
		want string
	}{
		{
			name: "a key signature accepted, in the report's numbering, the next not evaluated",
			req: Requirement{
				Path: "default[0]", Type: "plugin", Plugin: "sigstore", Outcome: OutcomeAccepted,
				// The plugin numbers the signatures it was sent: its 0 is the report's 1.
				Reason: "signature 0 accepted: public key sha256:cc",
				AcceptedSignature: &protocol.Accepted{
					Signature: 1, Format: "sigstore-json", PublicKey: str("sha256:cc"),
					SignedReference: str("127.0.0.1:5000/team/app:1"),
				},
				Signatures: []SignatureResult{
					{Signature: 0, Reason: "not sent to plugins: bundle: duplicate key \"x\""},
					{Signature: 1, Accepted: true, Reason: "accepted"},
					{Signature: 2, Reason: protocol.NotEvaluated},
				},
			},
			want: `requirement default[0] (plugin sigstore): accepted
  signature [0] rejected: not sent to plugins: bundle: duplicate key "x"
  signature [1] accepted: public key sha256:cc, signed reference 127.0.0.1:5000/team/app:1
  signature [2] not evaluated
`,
		},
		{
			name: "a keyless bundle accepted: issuer, subject, no reference, verified time",
			req: Requirement{
				Path: "default[0]", Type: "plugin", Plugin: "sigstore", Outcome: OutcomeAccepted,
				Reason: "signature 0 accepted: issuer https://gitlab.com, subject https://gitlab.com/g/p",
				AcceptedSignature: &protocol.Accepted{
					Signature: 0, Format: "sigstore-bundle", Issuer: str("https://gitlab.com"),
					Subject: str("https://gitlab.com/g/p"), Time: str("2026-05-24T10:11:12Z"),
				},
				Signatures: []SignatureResult{{Signature: 0, Accepted: true, Reason: "accepted"}},
			},
			want: `requirement default[0] (plugin sigstore): accepted
  signature [0] accepted: issuer https://gitlab.com, subject https://gitlab.com/g/p, names no reference (digest only), verified time 2026-05-24T10:11:12Z
`,
		},
		{
			name: "a rejection with no signature: the requirement's reason is the only explanation",
			req: Requirement{
				Path: "default[0]", Type: "plugin", Plugin: "sigstore", Outcome: OutcomeRejected,
				Reason: "no signatures: the image is not signed", Signatures: []SignatureResult{},
			},
			want: `requirement default[0] (plugin sigstore): rejected
  no signatures: the image is not signed
`,
		},
		{
			name: "a plugin that failed after some signatures were left out: the failure is said",
			req: Requirement{
				Path: "default[0]", Type: "plugin", Plugin: "crashy", Outcome: OutcomeFailed,
				Reason:     `plugin "crashy" verify: exit status 139`,
				Signatures: []SignatureResult{{Signature: 0, Reason: "not sent to plugins: bundle: duplicate key \"x\""}},
			},
			want: `requirement default[0] (plugin crashy): failed
  plugin "crashy" verify: exit status 139
  signature [0] rejected: not sent to plugins: bundle: duplicate key "x"
`,
		},
		{
			name: "a plugin that rejects although it accepted a signature: its reason is said",
			req: Requirement{
				Path: "default[0]", Type: "plugin", Plugin: "other", Outcome: OutcomeRejected,
				Reason:     "the image is older than allowed",
				Signatures: []SignatureResult{{Signature: 1, Accepted: true, Reason: "good signature"}},
			},
			want: `requirement default[0] (plugin other): rejected
  the image is older than allowed
  signature [1] accepted: good signature
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Report{
				Image: "127.0.0.1:5000/team/app:1", DockerReference: "127.0.0.1:5000/team/app:1", Policy: "policy.json",
				Scope:            Scope{Path: "default"},
				Manifest:         Manifest{Digest: "sha256:aa", MediaType: "application/vnd.oci.image.manifest.v1+json", Kind: "image"},
				SignatureFormats: []string{"sigstore-bundle", "sigstore-json"},
				Images:           []Evaluated{{Signatures: signatures, Requirements: []Requirement{tt.req}}},
				Accepted:         tt.req.Outcome == OutcomeAccepted,
			}
			var b strings.Builder
			if err := r.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			_, got, _ := strings.Cut(b.String(), "sha256-aa.sig layer 1\n")
			got, _, _ = strings.Cut(got, "verdict: ")
			if got != tt.want {
				t.Errorf("requirement lines:\n%s\nwant:\n%s", got, tt.want)
			}
			if n := strings.Count(b.String(), "accepted: accepted"); n != 0 {
				t.Errorf("a verdict said twice (%d times):\n%s", n, b.String())
			}
		})
	}
}

func TestWriteTextSaysWhichSignaturesWereLookedFor(t *testing.T) {
	plugin := Requirement{Path: "default[0]", Type: "plugin", Plugin: "sigstore", Outcome: OutcomeRejected, Reason: "no signatures"}
	builtin := Requirement{Path: "default[0]", Type: "reject", Outcome: OutcomeRejected, Reason: "containers/image rejected the image"}
	for _, tc := range []struct {
		name    string
		formats []string
		req     Requirement
		want    string
	}{
		{"both formats", []string{"sigstore-bundle", "sigstore-json"}, plugin, "signatures: 0 found (sigstore-bundle, sigstore-json)\n"},
		{
			"none, registries.d does not enable them",
			[]string{},
			plugin,
			"signatures: 0 found (none looked for: registries.d does not set use-sigstore-attachments for this registry or repository)\n",
		},
		{"none, no plugin requirement", []string{}, builtin, "signatures: not collected (no plugin requirement applies)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{
				Image: "busybox", DockerReference: "busybox", Policy: "policy.json", Scope: Scope{Path: "default"},
				Manifest:         Manifest{Digest: "sha256:aa", MediaType: "application/vnd.oci.image.manifest.v1+json", Kind: "image"},
				SignatureFormats: tc.formats, Images: []Evaluated{{Signatures: []FoundSignature{}, Requirements: []Requirement{tc.req}}}, Verdict: VerdictRejected,
			}
			var b strings.Builder
			if err := r.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), "\n"+tc.want) {
				t.Errorf("WriteText:\n%s\nwant the line %q", b.String(), tc.want)
			}
		})
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
