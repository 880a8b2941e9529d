package check

import (
	"strings"
	"testing"
)

func TestWriteTextSaysWhatWasLeftOut(t *testing.T) {
	const indexType = "application/vnd.oci.image.index.v1+json"
	r := &Report{
		Image: "x", DockerReference: "x", Policy: "policy.json", Scope: Scope{Path: "default"},
		Manifest: Manifest{
			Digest: "sha256:ii", MediaType: indexType, Kind: "index",
			Instances: []Instance{{Digest: "sha256:aa", MediaType: "application/vnd.oci.image.manifest.v1+json", Platform: "linux/amd64"}},
		},
		SignatureFormats:       []string{"sigstore-bundle", "sigstore-json"},
		IndexSignatures:        []FoundSignature{{Index: 0, Format: "sigstore-json", Source: "sha256-ii.sig layer 0"}},
		IndexSignaturesLeftOut: 3, IndexReferrersIndexLeftOut: true,
		Images: []Evaluated{{
			Digest: "sha256:aa", MediaType: "application/vnd.oci.image.manifest.v1+json", Platform: "linux/amd64", Index: "sha256:ii",
			Signatures:        []FoundSignature{{Index: 0, Format: "sigstore-json", Source: "sha256-aa.sig layer 0"}},
			SignaturesLeftOut: 29, ReferrersIndexLeftOut: true,
			Requirements: []Requirement{{Path: "default[0]", Type: "plugin", Plugin: "sigstore", Outcome: OutcomeAccepted, Reason: "ok"}},
			Accepted:     true, Verdict: VerdictAccepted,
		}},
		Accepted: true, Verdict: VerdictAccepted,
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  [0] sigstore-json from sha256-ii.sig layer 0\n  the referrers index is larger than 4 MiB: left out unread, with every bundle it lists\n" +
			"  and 3 more left out unread: past what one plugin request may carry (1000 signatures, 64 MiB), as a host leaves them out\n",
		"  [0] sigstore-json from sha256-aa.sig layer 0\n  the referrers index is larger than 4 MiB: left out unread, with every bundle it lists\n" +
			"  and 29 more left out unread: past what one plugin request may carry (1000 signatures, 64 MiB), as a host leaves them out\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text does not say %q:\n%s", want, b.String())
		}
	}
}
