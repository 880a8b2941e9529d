package upstreamcheck

import (
	"testing"

	"github.com/policy-plugins/sigstore/internal/e2e"
)

// TestUnpatchedModuleRefusesPluginPolicy is why the patch is needed:
// containers/image as released refuses a policy.json holding a plugin
// requirement as a whole, at load time, for copy and for bootc alike, with
// a properly signed image and the plugin installed.
func TestUnpatchedModuleRefusesPluginPolicy(t *testing.T) {
	s := newSetting(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, s.addr+"/team/app:1")
	e2e.SignLegacy(t, key, img.DigestRef())
	policy := s.policy(t, pluginRequirement("sigstore", keyConfig(key, "matchRepository")))
	const refusal = `Unknown policy requirement type "plugin"`

	r := s.copyToOCI(t, pristine(t), policy, img.Ref)
	r.want(t, exitError, refusal)
	r.wantNoLayout(t)
	s.allowed(t, pristine(t), policy, img.Ref).want(t, exitError, refusal)

	// The same program, image and setting with a built-in requirement only:
	// the refusal is the plugin requirement's, not the setting's.
	builtin := s.policy(t, sigstoreSigned(key))
	s.copyToOCI(t, pristine(t), builtin, img.Ref).wantLayout(t, img)
	s.allowed(t, pristine(t), builtin, img.Ref).want(t, exitAccepted)

	// And the same policy.json, unchanged, is what the patched module accepts.
	s.copyToOCI(t, patched(t), policy, img.Ref).wantLayout(t, img)
	s.allowed(t, patched(t), policy, img.Ref).want(t, exitAccepted)
}
