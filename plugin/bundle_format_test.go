package plugin

import (
	"testing"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

func TestBundleVersions(t *testing.T) {
	env := newTestEnv(t)
	leaf := env.leaf(t, fixture.GitHubReusableWorkflow())
	containersImageStyle := map[string]any{
		"fulcio":             map[string]any{"caPath": env.fulcioRootPath}, // the root alone
		"rekorPublicKeyPath": env.rekorKeyPath,
		"identities":         []any{githubIdentity},
		"signedIdentity":     digestOnly,
	}
	withMediaType := func(mediaType string) func(*protobundle.Bundle) {
		return func(pb *protobundle.Bundle) { pb.MediaType = mediaType }
	}
	for _, tc := range []struct {
		name   string
		opts   fixture.BundleOptions
		change func(*protobundle.Bundle)
		cfg    map[string]any // nil: the trusted root with digestOnly
		verdict
	}{
		{name: "a v0.3 bundle (application/vnd.dev.sigstore.bundle.v0.3+json) is accepted", opts: fixture.BundleOptions{Version: "v0.3"}, verdict: verdict{accept: true}},
		{
			name:    "a v0.3 bundle with the older media type spelling is accepted",
			opts:    fixture.BundleOptions{Version: "v0.3"},
			change:  withMediaType("application/vnd.dev.sigstore.bundle+json;version=0.3"),
			verdict: verdict{accept: true},
		},
		{name: "a v0.2 bundle (certificate chain, inclusion proof) is accepted", opts: fixture.BundleOptions{Version: "v0.2"}, verdict: verdict{accept: true}},
		{name: "a v0.1 bundle with only an inclusion promise is accepted", opts: fixture.BundleOptions{Version: "v0.1", NoInclusionProof: true}, verdict: verdict{accept: true}},
		{
			name:    "a v0.2 bundle's chain intermediate completes a containers/image style root-only CA",
			opts:    fixture.BundleOptions{Version: "v0.2"},
			cfg:     containersImageStyle,
			verdict: verdict{accept: true},
		},
		{
			name:    "a v0.3 bundle without the intermediate does not chain to a root-only CA",
			opts:    fixture.BundleOptions{Version: "v0.3"},
			cfg:     containersImageStyle,
			verdict: verdict{reason: "certificate does not chain to a trusted Fulcio CA"},
		},
		{
			name:    "a v0.3 bundle with a certificate chain is rejected, as the bundle specification requires",
			opts:    fixture.BundleOptions{Version: "v0.3", CertificateChain: true},
			verdict: verdict{reason: "verification material cannot be X.509 certificate chain (for bundle v0.3)"},
		},
		{
			name:    "a v0.4 bundle is rejected as unsupported",
			change:  withMediaType("application/vnd.dev.sigstore.bundle.v0.4+json"),
			verdict: verdict{reason: "bundle version v0.4 is not yet supported"},
		},
		{
			name:    "an unknown media type is rejected",
			change:  withMediaType("application/vnd.example.bundle+json"),
			verdict: verdict{reason: "unsupported media type: application/vnd.example.bundle+json"},
		},
		{
			name:    "a v0.1 bundle without an inclusion promise is rejected",
			opts:    fixture.BundleOptions{Version: "v0.1", NoInclusionPromise: true},
			verdict: verdict{reason: "inclusion promises missing in bundle (required for bundle v0.1)"},
		},
		{
			name:    "a v0.2 bundle without an inclusion proof is rejected",
			opts:    fixture.BundleOptions{Version: "v0.2", NoInclusionProof: true},
			verdict: verdict{reason: "inclusion proof missing in bundle (required for bundle v0.2)"},
		},
		{
			name: "a chain that carries the root is rejected",
			opts: fixture.BundleOptions{Version: "v0.2"},
			change: func(pb *protobundle.Bundle) {
				chain := pb.GetVerificationMaterial().GetX509CertificateChain()
				chain.Certificates = append(chain.Certificates, &protocommon.X509Certificate{RawBytes: env.in.Fulcio.Root.Raw})
			},
			verdict: verdict{reason: "x509CertificateChain includes a root certificate"},
		},
		{
			name:    "a bundle without content is rejected",
			change:  func(pb *protobundle.Bundle) { pb.Content = nil },
			verdict: verdict{reason: "missing bundle content"},
		},
		{
			name:    "a bundle without verification material is rejected",
			change:  func(pb *protobundle.Bundle) { pb.VerificationMaterial = nil },
			verdict: verdict{reason: "missing verification material"},
		},
		{
			name:    "a negative log index is rejected",
			change:  func(pb *protobundle.Bundle) { pb.VerificationMaterial.TlogEntries[0].LogIndex = -1 },
			verdict: verdict{reason: "transparency log entry 0 has a negative log index"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.ManifestDigest = env.digest
			pb := env.bundleProto(t, env.in, leaf, opts)
			if tc.change != nil {
				tc.change(pb)
			}
			cfg := tc.cfg
			if cfg == nil {
				cfg = env.bundleConfig(map[string]any{"signedIdentity": digestOnly})
			}
			tc.check(t, evaluate(t, env.request(t, cfg, bundleSignature(t, pb))))
		})
	}
}

func TestMalformedBundles(t *testing.T) {
	env := newTestEnv(t)
	good := env.bundle(t, env.leaf(t, fixture.GitHubReusableWorkflow()), env.cosignV3())
	for _, tc := range []struct {
		name   string
		bundle string
		reason string
	}{
		{"a bundle that is not JSON", `{"mediaType": `, "malformed bundle"},
		{"a bundle with a duplicate key", `{"mediaType": "a", "mediaType": "b"}`, `duplicate key "mediaType"`},
		{"a bundle with an unknown field", `{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "signature": "x"}`, `unknown field "signature"`},
		{"a bundle that is an array", `[]`, "malformed bundle"},
		{"an empty bundle object", `{}`, "invalid or unsupported bundle"},
	} {
		t.Run(tc.name+" is rejected and the next signature still evaluated", func(t *testing.T) {
			bad := protocol.Signature{Format: protocol.FormatSigstoreBundle, Bundle: []byte(tc.bundle)}
			resp := evaluate(t, env.request(t, env.bundleConfig(map[string]any{"signedIdentity": digestOnly}), bad, good))
			verdict{reason: tc.reason}.checkSignature(t, resp, 0)
			if resp.Verdict != protocol.VerdictAccept || resp.Accepted.Signature != 1 {
				t.Fatalf("%s: %s", resp.Verdict, resp.Reason)
			}
		})
	}
}
