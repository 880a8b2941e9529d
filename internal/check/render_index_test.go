package check

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/policy-plugins/sigstore/protocol"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// indexReport is the report of a multi-platform image: an index of two
// platforms and a provenance attestation manifest (what docker buildx
// pushes), signed at the index by a key; platform is --platform, images what
// was evaluated.
func indexReport(platform string, images ...Evaluated) *Report {
	r := &Report{
		Image: "127.0.0.1:5000/team/app:1", DockerReference: "127.0.0.1:5000/team/app:1", Policy: "policy.json",
		Scope:    Scope{Path: `transports.docker["127.0.0.1:5000/team"]`, Transport: "docker", Name: "127.0.0.1:5000/team"},
		Platform: platform,
		Manifest: Manifest{
			Digest: "sha256:1d", MediaType: "application/vnd.oci.image.index.v1+json", Kind: "index",
			Instances: []Instance{
				{Digest: "sha256:a1", MediaType: "application/vnd.oci.image.manifest.v1+json", Platform: "linux/amd64"},
				{Digest: "sha256:a2", MediaType: "application/vnd.oci.image.manifest.v1+json", Platform: "linux/arm64/v8"},
				{Digest: "sha256:a3", MediaType: "application/vnd.oci.image.manifest.v1+json", Platform: "unknown/unknown"},
			},
		},
		SignatureFormats: []string{"sigstore-bundle", "sigstore-json"},
		IndexSignatures:  []FoundSignature{{Index: 0, Format: "sigstore-json", MediaType: "application/vnd.dev.cosign.simplesigning.v1+json", Source: "sha256-1d.sig layer 0"}},
		Warnings:         []Problem{},
		Images:           images,
		Accepted:         true,
	}
	for _, im := range images {
		r.Accepted = r.Accepted && im.Accepted
	}
	r.Verdict = verdict(r.Accepted)
	return r
}

func key(s string) *string { return &s }

// throughIndex is an instance accepted through the index's signature 0.
func throughIndex(digest, platform string) Evaluated {
	return Evaluated{
		Digest: digest, MediaType: "application/vnd.oci.image.manifest.v1+json", Platform: platform, Index: "sha256:1d",
		Signatures: []FoundSignature{},
		Requirements: []Requirement{{
			Path: `transports.docker["127.0.0.1:5000/team"][0]`, Type: "plugin", Plugin: "sigstore", Outcome: OutcomeAccepted,
			Reason:      "accepted through its index sha256:1d (signature 0 of the index)",
			AcceptedVia: protocol.AcceptedViaIndex,
			AcceptedSignature: &protocol.Accepted{
				Via: protocol.AcceptedViaIndex, Signature: 0, Format: "sigstore-json",
				PublicKey: key("sha256:5e"), SignedReference: key("127.0.0.1:5000/team/app:1"),
			},
			Signatures:      []SignatureResult{},
			IndexSignatures: []SignatureResult{{Signature: 0, Accepted: true, Reason: "accepted"}},
		}},
		Accepted: true, Verdict: VerdictAccepted,
	}
}

// ownSignature is an instance accepted through its own signature 0, the
// index's not evaluated.
func ownSignature(digest, platform string) Evaluated {
	return Evaluated{
		Digest: digest, MediaType: "application/vnd.oci.image.manifest.v1+json", Platform: platform, Index: "sha256:1d",
		Signatures: []FoundSignature{{Index: 0, Format: "sigstore-json", MediaType: "application/vnd.dev.cosign.simplesigning.v1+json", Source: "sha256-" + digest[7:] + ".sig layer 0"}},
		Requirements: []Requirement{{
			Path: `transports.docker["127.0.0.1:5000/team"][0]`, Type: "plugin", Plugin: "sigstore", Outcome: OutcomeAccepted,
			Reason:      "signature 0 accepted: public key sha256:5e",
			AcceptedVia: protocol.AcceptedViaImage,
			AcceptedSignature: &protocol.Accepted{
				Via: protocol.AcceptedViaImage, Signature: 0, Format: "sigstore-json",
				PublicKey: key("sha256:5e"), SignedReference: key("127.0.0.1:5000/team/app:1"),
			},
			Signatures:      []SignatureResult{{Signature: 0, Accepted: true, Reason: "accepted"}},
			IndexSignatures: []SignatureResult{{Signature: 0, Reason: protocol.NotEvaluated}},
		}},
		Accepted: true, Verdict: VerdictAccepted,
	}
}

// notListed is an instance the signed index is said not to list.
func notListed(digest, platform string) Evaluated {
	return Evaluated{
		Digest: digest, MediaType: "application/vnd.oci.image.manifest.v1+json", Platform: platform, Index: "sha256:1d",
		Signatures: []FoundSignature{},
		Requirements: []Requirement{{
			Path: `transports.docker["127.0.0.1:5000/team"][0]`, Type: "plugin", Plugin: "sigstore", Outcome: OutcomeRejected,
			Reason:          "the instance has no signature; its index has 1, none accepted: signature 0 of the index: signed by a key the config does not name",
			Signatures:      []SignatureResult{},
			IndexSignatures: []SignatureResult{{Signature: 0, Reason: "signed by a key the config does not name"}},
		}},
		Verdict: VerdictRejected,
	}
}

func TestReportOfAMultiPlatformImageGolden(t *testing.T) {
	for _, tt := range []struct {
		name   string
		report *Report
	}{
		{"index-this-machine", indexReport("", throughIndex("sha256:a1", "linux/amd64"))},
		{"index-platform-arm64", indexReport("linux/arm64", ownSignature("sha256:a2", "linux/arm64/v8"))},
		{"index-platform-all", indexReport("all",
			throughIndex("sha256:a1", "linux/amd64"), ownSignature("sha256:a2", "linux/arm64/v8"), notListed("sha256:a3", "unknown/unknown"))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var text bytes.Buffer
			if err := tt.report.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			var js bytes.Buffer
			enc := json.NewEncoder(&js)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(tt.report); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".txt", text.Bytes())
			golden(t, tt.name+".json", js.Bytes())
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -run %s -update rewrites it):\n%s", path, t.Name(), got)
	}
}
