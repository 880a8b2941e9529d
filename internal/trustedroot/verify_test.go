package trustedroot

import (
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/plugin"
	"github.com/policy-plugins/sigstore/protocol"
)

// The point of updating: Sigstore starts a new Rekor log, publishes its key in
// a new trusted_root.json target, and signatures logged there verify only
// once the host has updated.
func TestTargetsUpdateWithANewRekorKeyMakesVerifyAccept(t *testing.T) {
	env := newTestEnv(t)
	env.mustUpdate(t)

	newLog := newRekorLog(t, "rekor-next.fixture.test")
	leaf, err := env.in.IssueLeaf(fixture.GitHubReusableWorkflow())
	if err != nil {
		t.Fatal(err)
	}
	manifest := fixture.OCIManifest("app")
	digest, err := fixture.ManifestDigest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := env.in.SignBundleProto(leaf, fixture.BundleOptions{ManifestDigest: digest, Rekor: newLog})
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	opts := fixture.GitHubReusableWorkflow()
	config, err := json.Marshal(map[string]any{
		"trustedRootPath": env.opts.Output,
		"identities":      []any{map[string]any{"issuer": opts.Issuer, "subjectURI": opts.URI}},
		"signedIdentity":  map[string]any{"type": "digestOnly"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ref := "registry.example.com/team/app:1.4"
	verify := func() *protocol.VerifyResponse {
		t.Helper()
		resp, err := plugin.Evaluate(&protocol.VerifyRequest{
			APIVersion: protocol.APIVersion,
			Kind:       protocol.KindVerifyRequest,
			Config:     config,
			Image:      protocol.Image{Transport: "docker", DockerReference: &ref, Manifest: manifest},
			Signatures: []protocol.Signature{{Format: protocol.FormatSigstoreBundle, MediaType: pb.GetMediaType(), Bundle: bundle}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	if resp := verify(); resp.Verdict != protocol.VerdictReject {
		t.Fatalf("before the update: verdict %s (%s), want reject: the log is not trusted yet", resp.Verdict, resp.Reason)
	}
	env.repo.Release(withExtraRekorLog(t, env.first, newLog))
	res := env.mustUpdate(t)
	if len(res.Changes) != 1 || !strings.HasPrefix(res.Changes[0], "transparency log added: https://rekor-next.fixture.test ") {
		t.Errorf("changes %q, want one line adding the new log", res.Changes)
	}
	if resp := verify(); resp.Verdict != protocol.VerdictAccept {
		t.Fatalf("after the update: verdict %s (%s), want accept", resp.Verdict, resp.Reason)
	}
}
