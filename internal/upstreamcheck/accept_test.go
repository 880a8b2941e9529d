package upstreamcheck

import (
	"testing"

	"github.com/policy-plugins/sigstore/internal/e2e"
)

// Images the patched containers/image accepts through the plugin: copy.Image
// lands them in the OCI layout, and bootc's IsRunningImageAllowed allows them.

func TestAcceptsKeylessGitLabSignature(t *testing.T) {
	s := newSetting(t, e2e.RegistryOptions{})
	img := e2e.PushImage(t, s.addr+"/team/gitlab:1.4")
	in := e2e.AttachGitLabKeyless(t, img)
	policy := s.policy(t, pluginRequirement("sigstore", gitlabConfig(t, in, e2e.GitLabSubject)))

	s.copyToOCI(t, patched(t), policy, img.Ref).wantLayout(t, img)
	s.allowed(t, patched(t), policy, img.Ref).want(t, exitAccepted)
}

func TestAcceptsKeyLegacySignature(t *testing.T) {
	s := newSetting(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, s.addr+"/team/keyed:1")
	e2e.SignLegacy(t, key, img.DigestRef())
	policy := s.policy(t, pluginRequirement("sigstore", keyConfig(key, "matchRepository")))

	s.copyToOCI(t, patched(t), policy, img.Ref).wantLayout(t, img)
	s.allowed(t, patched(t), policy, img.Ref).want(t, exitAccepted)
	// By digest too: the reference the user asked for is what the plugin matches.
	s.allowed(t, patched(t), policy, img.DigestRef()).want(t, exitAccepted)
}
