package upstreamcheck

import (
	"runtime"
	"testing"

	"github.com/policy-plugins/sigstore/internal/e2e"
)

// TestAcceptsIndexSignedImage: a multi-platform image whose index alone is
// signed (cosign sign of the index digest, without --recursive), pulled by
// tag. copy.Image chooses this machine's instance, and the plugin, sent the
// index and its signatures, accepts the instance through the index's
// signature; sigstoreSigned, which decides as before, refuses it; named by
// its instance digest the image comes with no index and is refused.
func TestAcceptsIndexSignedImage(t *testing.T) {
	s := newSetting(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	for _, c := range []struct {
		name           string
		sign           func(testing.TB, e2e.KeyPair, string)
		signedIdentity string
	}{
		{"legacy", e2e.SignLegacy, "matchRepository"},
		// A cosign v3 bundle's statement names the digest, not the repository.
		{"bundle", e2e.SignBundle, "digestOnly"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img := e2e.PushIndex(t, s.addr+"/team/multi-"+c.name+":1")
			c.sign(t, key, img.DigestRef())
			var instance *e2e.Instance
			for i, in := range img.Instances {
				if in.Platform.OS == "linux" && in.Platform.Architecture == runtime.GOARCH {
					instance = &img.Instances[i]
				}
			}
			if instance == nil {
				t.Fatalf("no instance of the index for linux/%s", runtime.GOARCH)
			}
			chosen := e2e.Image{Ref: img.Ref, Repository: img.Repository, Digest: instance.Digest, Manifest: instance.Manifest, MIMEType: e2e.MediaTypeOCIManifest}
			plugin := s.policy(t, pluginRequirement("sigstore", keyConfig(key, c.signedIdentity)))

			s.copyToOCI(t, patched(t), plugin, img.Ref).wantLayout(t, chosen)

			r := s.copyToOCI(t, patched(t), s.policy(t, sigstoreSigned(key)), img.Ref)
			r.want(t, exitRejected)
			r.wantNoLayout(t)

			r = s.copyToOCI(t, patched(t), plugin, img.Repository+"@"+instance.Digest)
			r.want(t, exitRejected, `Policy plugin "sigstore" rejected the image`)
			r.wantNoLayout(t)
		})
	}
}
