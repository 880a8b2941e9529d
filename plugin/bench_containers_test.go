package plugin

import (
	"path/filepath"
	"testing"

	"github.com/policy-plugins/sigstore/protocol"
)

// BenchmarkContainersImagePolicyContext compares the plugin with
// containers/image's own sigstoreSigned evaluation of the same signature: the
// real public-good one and the generated email one, each a dir: image, under
// the same requirement (parsed per evaluation on both sides, as a process that
// checks one image does). containers/image reads the manifest and the
// signature from the directory; the plugin gets them in its request.
func BenchmarkContainersImagePolicyContext(b *testing.B) {
	for _, tc := range []struct {
		name, dir, ref string
		requirement    map[string]any
	}{
		{
			name: "public-good signature", dir: publicGood, ref: "192.168.64.2:5000/cosign-signed/fulcio-rekor-1:latest",
			requirement: map[string]any{
				"fulcio":             map[string]any{"caPath": abs(b, publicGood+"/fulcio_v1.crt.pem"), "oidcIssuer": "https://github.com/login/oauth", "subjectEmail": "mitr@redhat.com"},
				"rekorPublicKeyPath": abs(b, publicGood+"/rekor.pub"),
				"signedIdentity":     map[string]any{"type": "matchRepository"},
			},
		},
		{
			name: "generated email signature", dir: generated + "/email", ref: "registry.example.com/team/app:1.4",
			requirement: map[string]any{
				"fulcio":             map[string]any{"caPath": abs(b, generated+"/email/fulcio-root.pem"), "oidcIssuer": "https://accounts.google.com", "subjectEmail": "alice@example.com"},
				"rekorPublicKeyPath": abs(b, generated+"/email/rekor.pub"),
				"signedIdentity":     map[string]any{"type": "matchRepository"},
			},
		},
	} {
		dir := abs(b, tc.dir)
		d := &differential{dir: dir}
		withType := map[string]any{"type": "sigstoreSigned"}
		for k, v := range tc.requirement {
			withType[k] = v
		}
		b.Run(tc.name+", containers/image PolicyContext", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ok, err := d.containersImage(b, withType, tc.ref); !ok {
					b.Fatal(err)
				}
			}
		})
		ref := tc.ref
		req := &protocol.VerifyRequest{
			APIVersion: protocol.APIVersion, Kind: protocol.KindVerifyRequest, Config: configJSON(b, tc.requirement),
			Image:      protocol.Image{Transport: "docker", DockerReference: &ref, Manifest: readFile(b, filepath.Join(dir, "manifest.json"))},
			Signatures: []protocol.Signature{readDirSignature(b, filepath.Join(dir, "signature-1"))},
		}
		b.Run(tc.name+", plugin", func(b *testing.B) { benchmarkEvaluate(b, req) })
	}
}
