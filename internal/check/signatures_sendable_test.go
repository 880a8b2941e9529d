package check

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/policy-plugins/sigstore/internal/policy"
	"github.com/policy-plugins/sigstore/internal/registry"
	"github.com/policy-plugins/sigstore/protocol"
	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// nested is an object nesting depth levels deep: {"a":{"a":{}}} is 3.
func nested(depth int) string {
	return strings.Repeat(`{"a":`, depth-1) + `{}` + strings.Repeat(`}`, depth-1)
}

// deepestSendable is the deepest nesting a bundle can have in a request,
// three levels down (the request, "signatures", the entry).
const deepestSendable = strictjson.MaxDepth - 3

// TestAddBundleSkipsWhatPluginsWouldRefuse: a bundle that would make a plugin
// refuse the whole request is marked skipped, whatever rule it breaks,
// its nesting in the request included.
func TestAddBundleSkipsWhatPluginsWouldRefuse(t *testing.T) {
	for _, tc := range []struct{ name, bundle, skipped string }{
		{"a well-formed bundle is sent", `{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "x": "\u00e9"}`, ""},
		{"a bundle as deep as a request can carry is sent", nested(deepestSendable), ""},
		{"a duplicate key is left out", `{"x": 1, "x": 2}`, `not sent to plugins: bundle: duplicate key "x"`},
		{"an unpaired surrogate is left out", `{"x": "\ud800"}`, "not sent to plugins: bundle.x: string is not well-formed Unicode"},
		{"invalid UTF-8 is left out", "{\"x\": \"\xff\"}", "not sent to plugins: bundle.x: string is not well-formed Unicode"},
		{"not JSON is left out", `not JSON`, "not sent to plugins: bundle: malformed JSON"},
		{"an array is left out", `[]`, "not sent to plugins: bundle: refused in a verify request: signatures[0].bundle: must be an object"},
		{"a bundle too deep for a request is left out", nested(deepestSendable + 1), "not sent to plugins: bundle: refused in a verify request: signatures[0].bundle.a.a"},
		{"a bundle too deep on its own is left out", nested(strictjson.MaxDepth + 1), "not sent to plugins: bundle.a.a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &collected{}
			c.addBundle(registry.Bundle{MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", JSON: []byte(tc.bundle), Referrer: "sha256:bb"}, protocol.SendableBundle)
			f := c.found[0]
			if f.Skipped != tc.skipped && (tc.skipped == "" || !strings.HasPrefix(f.Skipped, tc.skipped)) {
				t.Fatalf("skipped %q, want %q", f.Skipped, tc.skipped)
			}
			if f.Format != protocol.FormatSigstoreBundle || f.Source != "referrer sha256:bb" || string(c.request[0].Bundle) != tc.bundle {
				t.Fatalf("found %+v, request %+v", f, c.request[0])
			}
		})
	}
}

// TestAPluginIsSentEverySignatureButATooDeepBundle: a bundle nested too deep
// for a request (fine on its own) is listed skipped, and the plugin, reading
// the request with the protocol's decoder, answers about every other
// signature instead of refusing the request.
func TestAPluginIsSentEverySignatureButATooDeepBundle(t *testing.T) {
	host := describeHost(t)
	good := `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`
	tooDeep := nested(deepestSendable + 1)
	c := &collected{found: []FoundSignature{}}
	c.add(FoundSignature{Format: protocol.FormatSigstoreJSON, Source: "sha256-aa.sig layer 0"},
		protocol.Signature{Format: protocol.FormatSigstoreJSON, MIMEType: "application/vnd.dev.cosign.simplesigning.v1+json", Payload: []byte(`{"critical":{}}`)})
	for i, b := range []string{good, tooDeep, nested(deepestSendable)} {
		c.addBundle(registry.Bundle{
			MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", JSON: []byte(b),
			Referrer: digest.FromString(fmt.Sprint(i)),
		}, protocol.SendableBundle)
	}
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}`)
	image := &pendingImage{ready: make(chan struct{})}
	image.set(&imageData{untrustedManifest: registry.Manifest{Bytes: manifest, MIMEType: "application/vnd.oci.image.manifest.v1+json", Digest: digest.FromBytes(manifest)}, sigs: c})

	out, err := evaluatePlugin(context.Background(), host, "example.com/a:1", image,
		policy.Requirement{Path: "default[0]", Type: policy.TypePlugin, Plugin: "describe", Config: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}

	if out.Outcome != OutcomeRejected || out.Reason != "no signature accepted" {
		t.Fatalf("outcome %s (%s), want the plugin's reject", out.Outcome, out.Reason)
	}
	if !strings.HasPrefix(c.found[2].Skipped, "not sent to plugins: bundle: refused in a verify request: ") {
		t.Fatalf("the too-deep bundle is listed as %+v", c.found[2])
	}
	want := []SignatureResult{
		{Signature: 0, Reason: "got sigstore-json of 15 bytes"},
		{Signature: 1, Reason: fmt.Sprintf("got sigstore-bundle of %d bytes", len(good))},
		{Signature: 2, Reason: c.found[2].Skipped},
		{Signature: 3, Reason: fmt.Sprintf("got sigstore-bundle of %d bytes", len(nested(deepestSendable)))},
	}
	if fmt.Sprint(out.Signatures) != fmt.Sprint(want) {
		t.Fatalf("signatures %+v, want %+v", out.Signatures, want)
	}
}

// TestAPluginIsSentTheIndexAndItsSignatures: an instance chosen from an
// index goes with the index's exact bytes and its signatures (image.index),
// the index's bundles judged at their place in the request, two levels
// deeper than the instance's; the plugin's answer about each list is
// reported in that list's numbering.
func TestAPluginIsSentTheIndexAndItsSignatures(t *testing.T) {
	host := describeHost(t)
	indexBundles := &collected{found: []FoundSignature{}}
	for i, b := range []string{nested(deepestSendable), nested(deepestSendable - 2)} {
		indexBundles.addBundle(registry.Bundle{
			MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", JSON: []byte(b),
			Referrer: digest.FromString(fmt.Sprint(i)),
		}, protocol.SendableIndexBundle)
	}
	image := &pendingImage{ready: make(chan struct{})}
	image.set(&imageData{untrustedManifest: testInstance, sigs: attachments(testInstance, 1), untrustedIndex: &testIndex, indexSigs: indexBundles})

	out, err := evaluatePlugin(context.Background(), host, "example.com/a:1", image,
		policy.Requirement{Path: "default[0]", Type: policy.TypePlugin, Plugin: "describe", Config: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Outcome != OutcomeRejected || out.Reason != "no signature accepted" {
		t.Fatalf("outcome %s (%s), want the plugin's reject", out.Outcome, out.Reason)
	}
	if !strings.HasPrefix(indexBundles.found[0].Skipped, "not sent to plugins: bundle: refused in a verify request: image.index.signatures[0].bundle.a.a") {
		t.Fatalf("a bundle as deep as the instance's may be is listed for the index as %+v", indexBundles.found[0])
	}
	wantImage := []SignatureResult{{Signature: 0, Reason: "got sigstore-json of " + fmt.Sprint(len(attachments(testInstance, 1).request[0].Payload)) + " bytes"}}
	wantIndex := []SignatureResult{
		{Signature: 0, Reason: indexBundles.found[0].Skipped},
		{Signature: 1, Reason: fmt.Sprintf("index %s: got sigstore-bundle of %d bytes", testIndex.Digest, len(nested(deepestSendable-2)))},
	}
	if fmt.Sprint(out.Signatures) != fmt.Sprint(wantImage) || fmt.Sprint(out.IndexSignatures) != fmt.Sprint(wantIndex) {
		t.Fatalf("signatures %+v, index signatures %+v; want %+v, %+v", out.Signatures, out.IndexSignatures, wantImage, wantIndex)
	}
}
