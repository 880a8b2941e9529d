package check

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/policy-plugins/sigstore/internal/policy"
	"github.com/policy-plugins/sigstore/internal/registry"
	"github.com/policy-plugins/sigstore/protocol"
)

func manifestOf(mimeType, content string) registry.Manifest {
	return registry.Manifest{Bytes: []byte(content), MIMEType: mimeType, Digest: digest.FromString(content)}
}

var (
	testInstance = manifestOf("application/vnd.oci.image.manifest.v1+json", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}`)
	testIndex    = manifestOf("application/vnd.oci.image.index.v1+json", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`)
)

// attachments are n cosign attachments of manifest m.
func attachments(m registry.Manifest, n int) *collected {
	c := &collected{found: []FoundSignature{}}
	for i := range n {
		c.add(FoundSignature{Format: protocol.FormatSigstoreJSON, Source: fmt.Sprintf("%s layer %d", m.Digest, i)},
			protocol.Signature{Format: protocol.FormatSigstoreJSON, MIMEType: "application/vnd.dev.cosign.simplesigning.v1+json", Payload: fmt.Appendf(nil, "%s %d", m.Digest, i)})
	}
	return c
}

func TestVerifyRequestCarriesTheIndexAnInstanceWasChosenFrom(t *testing.T) {
	r := policy.Requirement{Path: "default[0]", Type: policy.TypePlugin, Plugin: "sigstore", Config: []byte(`{"keyPath":"/k.pub"}`)}
	t.Run("an instance chosen from an index: the index's exact bytes and its signatures", func(t *testing.T) {
		data := &imageData{untrustedManifest: testInstance, sigs: attachments(testInstance, 1), untrustedIndex: &testIndex, indexSigs: attachments(testIndex, 2)}
		req, sent, sentOfIndex := verifyRequest(r, "example.com/a:1", data)
		if string(req.Image.Manifest) != string(testInstance.Bytes) || req.Image.Index == nil ||
			string(req.Image.Index.Manifest) != string(testIndex.Bytes) || req.Image.Index.ManifestMIMEType != testIndex.MIMEType {
			t.Fatalf("request image %+v, want the instance with its index", req.Image)
		}
		if len(req.Signatures) != 1 || len(req.Image.Index.Signatures) != 2 ||
			string(req.Image.Index.Signatures[1].Payload) != string(data.indexSigs.request[1].Payload) ||
			!slices.Equal(sent, []int{0}) || !slices.Equal(sentOfIndex, []int{0, 1}) {
			t.Fatalf("signatures %d, index signatures %d (sent %v, %v), want 1 and 2", len(req.Signatures), len(req.Image.Index.Signatures), sent, sentOfIndex)
		}
	})
	t.Run("a single manifest, or an instance named by its digest: no index", func(t *testing.T) {
		req, _, sentOfIndex := verifyRequest(r, "example.com/a:1", &imageData{untrustedManifest: testInstance, sigs: attachments(testInstance, 1)})
		if req.Image.Index != nil || sentOfIndex != nil {
			t.Fatalf("request carries index %+v", req.Image.Index)
		}
	})
	t.Run("at most MaxSignatures entries across both lists, the image's first; the rest said why", func(t *testing.T) {
		data := &imageData{
			untrustedManifest: testInstance, sigs: attachments(testInstance, protocol.MaxSignatures-1),
			untrustedIndex: &testIndex, indexSigs: attachments(testIndex, 3),
		}
		// What fetchSignatures does: the image's read within the request's
		// budget, then the index's offered to it.
		budget := requestBudget(testInstance, &testIndex)
		for _, s := range data.sigs.request {
			if !budget.Take(protocol.AttachmentCost(s.MIMEType, int64(len(s.Payload)), s.Annotations)) {
				t.Fatal("the image's signatures do not fit")
			}
		}
		data.indexTaken = make([]bool, 3)
		data.indexSigs.offer(budget, protocol.FormatSigstoreJSON, data.indexTaken)
		if budget.LeftOut() != 2 {
			t.Fatalf("budget left out %d, want 2", budget.LeftOut())
		}
		req, sent, sentOfIndex := verifyRequest(r, "example.com/a:1", data)
		if len(req.Signatures) != protocol.MaxSignatures-1 || len(req.Image.Index.Signatures) != 1 {
			t.Fatalf("sent %d + %d signatures, want %d + 1", len(req.Signatures), len(req.Image.Index.Signatures), protocol.MaxSignatures-1)
		}
		results := signatureResults(data.indexSigs, sentOfIndex, []protocol.SignatureResult{{Index: 0, Reason: "no"}})
		want := []SignatureResult{{Signature: 0, Reason: "no"}, {Signature: 1, Reason: pastBudget}, {Signature: 2, Reason: pastBudget}}
		if !slices.Equal(results, want) {
			t.Errorf("index results %+v, want %+v", results, want)
		}
		if len(sent) != protocol.MaxSignatures-1 {
			t.Errorf("%d image signatures mapped", len(sent))
		}
	})
}

// A host that pulls runs no validate-config: an INVALID_CONFIG answer to
// verify is a broken policy (no verdict), not a rejection of the image.
func TestInvalidConfigFromVerifyIsAnError(t *testing.T) {
	host := describeHost(t)
	image := &pendingImage{ready: make(chan struct{})}
	image.set(&imageData{untrustedManifest: testInstance, sigs: attachments(testInstance, 1)})
	r := policy.Requirement{Path: `transports.docker["example.com"][0]`, Type: policy.TypePlugin, Plugin: "invalid-config", Config: []byte(`{}`)}

	_, err := evaluatePlugin(context.Background(), host, "example.com/a:1", image, r)

	var setup *SetupError
	if !errors.As(err, &setup) {
		t.Fatalf("error %v, want a SetupError", err)
	}
	want := `policy transports.docker["example.com"][0]: plugin "invalid-config" verify: INVALID_CONFIG: config.keyPath: open /nonexistent.pub`
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start %q", err, want)
	}
}

func TestARejectionIsNotAnError(t *testing.T) {
	host := describeHost(t)
	image := &pendingImage{ready: make(chan struct{})}
	image.set(&imageData{untrustedManifest: testInstance, sigs: attachments(testInstance, 1)})
	r := policy.Requirement{Path: "default[0]", Type: policy.TypePlugin, Plugin: "describe", Config: []byte(`{}`)}

	out, err := evaluatePlugin(context.Background(), host, "example.com/a:1", image, r)
	if err != nil || out.Outcome != OutcomeRejected || len(out.Signatures) != 1 || out.IndexSignatures != nil {
		t.Fatalf("outcome %+v, error %v; want the plugin's rejection of its one signature", out, err)
	}
}

func TestAPluginThatCannotBeRunIsAnError(t *testing.T) {
	host := describeHost(t)
	image := &pendingImage{ready: make(chan struct{})}
	image.set(&imageData{untrustedManifest: testInstance, sigs: attachments(testInstance, 1)})
	r := policy.Requirement{Path: "default[0]", Type: policy.TypePlugin, Plugin: "nosuch", Config: []byte(`{}`)}

	_, err := evaluatePlugin(context.Background(), host, "example.com/a:1", image, r)
	var setup *SetupError
	if !errors.As(err, &setup) || !strings.HasPrefix(err.Error(), `policy default[0]: plugin "nosuch": not found`) {
		t.Fatalf("error %v, want a SetupError naming the requirement", err)
	}
}
