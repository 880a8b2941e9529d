package upstreamcheck

import (
	"testing"

	"github.com/policy-plugins/sigstore/internal/e2e"
)

// TestMixedScopeRequiresBoth: a scope holding sigstoreSigned and a plugin
// requirement accepts only when both do, as for any two requirements.
func TestMixedScopeRequiresBoth(t *testing.T) {
	s := newSetting(t, e2e.RegistryOptions{})
	key, other := e2e.GenerateKeyPair(t), e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, s.addr+"/team/both:1")
	e2e.SignLegacy(t, key, img.DigestRef())

	t.Run("sigstoreSigned accepts, the plugin rejects: refused", func(t *testing.T) {
		policy := s.policy(t, sigstoreSigned(key), pluginRequirement("sigstore", keyConfig(other, "matchRepository")))
		s.wantRejected(t, policy, img.Ref, "no signature accepted: ", "signature was not made by the configured key (sha256:")
	})
	t.Run("the plugin accepts, sigstoreSigned rejects: refused", func(t *testing.T) {
		policy := s.policy(t, sigstoreSigned(other), pluginRequirement("sigstore", keyConfig(key, "matchRepository")))
		r := s.copyToOCI(t, patched(t), policy, img.Ref)
		// containers/image's own wording for a sigstoreSigned rejection; it
		// reports a signature that does not verify as an InvalidSignatureError,
		// not as a PolicyRequirementError, hence exit 3.
		r.want(t, exitError, "Source image rejected: ", "cryptographic signature verification failed")
		r.wantNoLayout(t)
		s.allowed(t, patched(t), policy, img.Ref).want(t, exitError, "cryptographic signature verification failed")
	})
	t.Run("both accept: accepted", func(t *testing.T) {
		policy := s.policy(t, sigstoreSigned(key), pluginRequirement("sigstore", keyConfig(key, "matchRepository")))
		s.copyToOCI(t, patched(t), policy, img.Ref).wantLayout(t, img)
		s.allowed(t, patched(t), policy, img.Ref).want(t, exitAccepted)
	})
}
