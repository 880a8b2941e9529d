package plugin

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/policy-plugins/sigstore/protocol"
)

var update = flag.Bool("update", false, "rewrite golden files")

// exampleRequest is the request README's first command verifies: the real
// public-good signature, with config paths relative to the repository root.
const exampleRequest = "../testdata/public-good/request.json"

func buildExampleRequest(t *testing.T) []byte {
	req := publicGoodRequest(t, map[string]any{
		"trustedRootPath": "testdata/public-good/trusted_root.json",
		"identities": []any{map[string]any{
			"issuer":       "https://github.com/login/oauth",
			"subjectEmail": "mitr@redhat.com",
		}},
		// cosign signed the repository, not a tag.
		"signedIdentity": map[string]any{"type": "matchRepository"},
	})
	req.RequestID = strPtr("readme-example")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(req); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExampleRequestIsCurrent(t *testing.T) {
	want := buildExampleRequest(t)
	if *update {
		if err := os.WriteFile(exampleRequest, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := readFile(t, exampleRequest); !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run go test ./plugin -run TestExampleRequestIsCurrent -update", exampleRequest)
	}
}

func TestExampleRequestAccepts(t *testing.T) {
	data := readFile(t, exampleRequest)
	t.Chdir("..") // the config's paths are relative to the repository root
	req, err := protocol.DecodeVerifyRequest(data)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := Evaluate(req)
	if err != nil {
		t.Fatal(err)
	}
	want := "signature 0 accepted: issuer https://github.com/login/oauth, subject mitr@redhat.com"
	if resp.Verdict != protocol.VerdictAccept || resp.Reason != want {
		t.Fatalf("got %s %q, want accept %q", resp.Verdict, resp.Reason, want)
	}
	if resp.ManifestDigest != "sha256:0489474da8ea22426ece86ace6c1c0026ab2fd3cdfbbd62b7e94650266c37d9a" {
		t.Fatalf("manifestDigest %s", resp.ManifestDigest)
	}
	if resp.Accepted.Time == nil || *resp.Accepted.Time != "2023-01-20T20:51:33Z" {
		t.Fatalf("accepted.time %v", resp.Accepted.Time)
	}
}
