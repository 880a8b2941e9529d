package upstreamcheck

import (
	"testing"

	"github.com/policy-plugins/sigstore/internal/e2e"
)

// cosign v3 signs in the Sigstore bundle format, stored as an OCI referrer of
// the image: through the referrers API where the registry has one, else
// listed in the sha256-<hex> referrers tag (Debian's docker-registry). The
// patched docker transport reads both and hands the bundles to plugin
// requirements. A bundle signs an in-toto statement naming the digest, not a
// docker reference: the config says digestOnly.

func TestAcceptsCosignBundleViaReferrersTag(t *testing.T) {
	s := newSetting(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, s.addr+"/team/bundled:1")
	e2e.SignBundle(t, key, img.DigestRef())
	if tags := e2e.Tags(t, img.Repository); len(tags) != 2 {
		t.Fatalf("tags %q, want the image's and cosign's referrers tag %s", tags, e2e.FallbackTag(img.Digest))
	}
	policy := s.policy(t, pluginRequirement("sigstore", keyConfig(key, "digestOnly")))

	s.copyToOCI(t, patched(t), policy, img.Ref).wantLayout(t, img)
	s.allowed(t, patched(t), policy, img.Ref).want(t, exitAccepted)

	t.Run("built-in requirements decide as before: they cannot verify bundles", func(t *testing.T) {
		s.wantBuiltinRefusesBundle(t, key, img)
	})
	t.Run("not read where registries.d does not enable attachments", func(t *testing.T) {
		off := *s
		off.registriesD = writeDir(t, "test.yaml", "docker:\n  "+s.addr+":\n    use-sigstore-attachments: false\n")
		off.wantRejected(t, policy, img.Ref, "no signatures: the image is not signed")
	})
}

func TestAcceptsCosignBundleViaReferrersAPI(t *testing.T) {
	s := newSetting(t, e2e.RegistryOptions{ReferrersAPI: true})
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, s.addr+"/team/bundled:1")
	e2e.SignBundle(t, key, img.DigestRef())
	if tags := e2e.Tags(t, img.Repository); len(tags) != 1 {
		t.Fatalf("tags %q: cosign wrote a referrers tag, so the API was not used", tags)
	}
	policy := s.policy(t, pluginRequirement("sigstore", keyConfig(key, "digestOnly")))

	s.copyToOCI(t, patched(t), policy, img.Ref).wantLayout(t, img)
	s.allowed(t, patched(t), policy, img.Ref).want(t, exitAccepted)
	s.wantBuiltinRefusesBundle(t, key, img)
}

// wantBuiltinRefusesBundle: sigstoreSigned with the key that made the bundle
// still refuses the bundle-only image, as containers/image as released does.
func (s *setting) wantBuiltinRefusesBundle(t *testing.T, key e2e.KeyPair, img e2e.Image) {
	t.Helper()
	policy := s.policy(t, sigstoreSigned(key))
	const noSignature = "A signature was required, but no signature exists"
	r := s.copyToOCI(t, patched(t), policy, img.Ref)
	r.want(t, exitRejected, noSignature)
	r.wantNoLayout(t)
	s.allowed(t, patched(t), policy, img.Ref).want(t, exitRejected, noSignature)
	s.allowed(t, pristine(t), policy, img.Ref).want(t, exitRejected, noSignature)
}
