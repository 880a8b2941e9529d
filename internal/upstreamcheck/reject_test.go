package upstreamcheck

import (
	"testing"

	"github.com/policy-plugins/sigstore/internal/e2e"
)

// Images the plugin rejects: copy.Image copies nothing, IsRunningImageAllowed
// refuses, and both say the plugin's reason, as a PolicyRequirementError
// (exit 1), not as a failure.

// pluginRejected is how the patch words a reject verdict.
const pluginRejected = `Policy plugin "sigstore" rejected the image: `

// wantRejected runs both hosts on image and asserts the rejection and the
// plugin's reason.
func (s *setting) wantRejected(t *testing.T, policy, image string, reason ...string) {
	t.Helper()
	want := append([]string{pluginRejected}, reason...)
	r := s.copyToOCI(t, patched(t), policy, image)
	r.want(t, exitRejected, append([]string{"Source image rejected: "}, want...)...)
	r.wantNoLayout(t)
	s.allowed(t, patched(t), policy, image).want(t, exitRejected, want...)
}

func TestRejectsUnsignedImage(t *testing.T) {
	s := newSetting(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, s.addr+"/team/unsigned:1")
	policy := s.policy(t, pluginRequirement("sigstore", keyConfig(key, "matchRepository")))

	s.wantRejected(t, policy, img.Ref, "no signatures: the image is not signed")
}

func TestRejectsWrongIdentity(t *testing.T) {
	s := newSetting(t, e2e.RegistryOptions{})
	img := e2e.PushImage(t, s.addr+"/team/other-project:1")
	in := e2e.AttachGitLabKeyless(t, img)
	wanted := "https://gitlab.com/group/other-project//.gitlab-ci.yml@refs/heads/main"
	policy := s.policy(t, pluginRequirement("sigstore", gitlabConfig(t, in, wanted)))

	s.wantRejected(t, policy, img.Ref, "no signature accepted: ", "certificate subject "+e2e.GitLabSubject, "matches no identity")
}

func TestRejectsWrongKey(t *testing.T) {
	s := newSetting(t, e2e.RegistryOptions{})
	signer, trusted := e2e.GenerateKeyPair(t), e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, s.addr+"/team/keyed:1")
	e2e.SignLegacy(t, signer, img.DigestRef())
	policy := s.policy(t, pluginRequirement("sigstore", keyConfig(trusted, "matchRepository")))

	s.wantRejected(t, policy, img.Ref, "no signature accepted: ", "signature 0: signature was not made by the configured key (sha256:")
}

func TestRejectsMovedTag(t *testing.T) {
	s := newSetting(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	signed := e2e.PushImage(t, s.addr+"/team/moved:1")
	e2e.SignLegacy(t, key, signed.DigestRef())
	policy := s.policy(t, pluginRequirement("sigstore", keyConfig(key, "matchRepository")))
	s.allowed(t, patched(t), policy, signed.Ref).want(t, exitAccepted)

	// Another image, then the tag moved to it, as a later push would.
	moved := e2e.PushImage(t, s.addr+"/team/moved:2")
	e2e.PutManifest(t, moved.Repository, "1", moved.MIMEType, moved.Manifest)

	s.wantRejected(t, policy, signed.Ref, "no signatures: the image is not signed")
	// The old signature still holds, for the old digest only.
	s.copyToOCI(t, patched(t), policy, signed.DigestRef()).wantLayout(t, signed)
}
