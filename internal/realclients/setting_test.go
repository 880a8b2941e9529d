package realclients

import (
	"testing"

	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/internal/upstreamclients"
)

// setting is one end-to-end setting: a real registry on loopback, a
// registries.d turning on cosign attachments for it (podman reads it as the
// user's, skopeo through --registries.d) and a plugin directory holding this
// repository's plugin as "sigstore".
type setting struct {
	addr        string // 127.0.0.1:PORT
	registriesD string
	plugins     string
	// args are more flags for the client's subcommand (pull, copy).
	args []string
}

func newSetting(t *testing.T, opts e2e.RegistryOptions) *setting {
	t.Helper()
	e2e.SkipIfShort(t)
	s := &setting{addr: e2e.StartRegistry(t, opts)}
	s.registriesD = e2e.WriteRegistriesD(t, s.addr, true)
	s.plugins = upstreamclients.PluginsDir(t)
	return s
}

// env is the client's plugin directory.
func (s *setting) env() upstreamclients.Option {
	return upstreamclients.Env(upstreamclients.PluginDirsEnv + "=" + s.plugins)
}

// policy writes a policy.json whose scope for the registry's team/
// namespace holds requirements, rejecting everything else.
func (s *setting) policy(t *testing.T, requirements ...string) string {
	t.Helper()
	return e2e.WritePolicy(t, map[string][]string{s.addr + "/team": requirements})
}

// signed pushes addr/team/repo:1 and signs it with a new key in cosign's
// legacy layout; it returns the image and the sigstore plugin requirement
// trusting that key.
func (s *setting) signed(t *testing.T, repo string) (e2e.Image, e2e.KeyPair, string) {
	t.Helper()
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, s.addr+"/team/"+repo+":1")
	e2e.SignLegacy(t, key, img.DigestRef())
	return img, key, e2e.PluginRequirement("sigstore", e2e.KeyConfig(key, "matchRepository"))
}
