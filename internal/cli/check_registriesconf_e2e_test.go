package cli

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"go.podman.io/image/v5/pkg/sysregistriesv2"

	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/protocol"
)

// check configured the way podman users configure registries: only
// registries.conf (CONTAINERS_REGISTRIES_CONF) and auth.json
// (REGISTRY_AUTH_FILE), no --tls-verify. Both clients (containers/image for
// the manifest and attachments, go-containerregistry for referrers) must
// follow it. The images are signed with cosign v3 bundles, so the signature is
// only found through the referrers client.

// useRegistriesConf points containers/image at a registries.conf holding
// conf. containers/image caches registries.conf per process without keying
// on CONTAINERS_REGISTRIES_CONF, which a process never changes; tests in one
// process do, so the cache is dropped before and after.
func useRegistriesConf(t *testing.T, conf string) {
	t.Helper()
	t.Setenv("CONTAINERS_REGISTRIES_CONF", writeFile(t, "registries.conf", conf))
	sysregistriesv2.InvalidateCache()
	t.Cleanup(sysregistriesv2.InvalidateCache)
}

func TestCheckFollowsRegistriesConf(t *testing.T) {
	env := newCheckEnv(t, e2e.RegistryOptions{})
	env.tlsFromRegistriesConf = true
	key := e2e.GenerateKeyPair(t)
	policy := env.policy(t, pluginRequirement(keyConfig(key, "digestOnly")))
	signed := e2e.PushImage(t, env.addr+"/team/signed:1")
	e2e.SignBundle(t, key, signed.DigestRef())
	unsigned := e2e.PushImage(t, env.addr+"/team/unsigned:1")

	t.Run("insecure = true: plain HTTP for the manifest and the referrers", func(t *testing.T) {
		useRegistriesConf(t, fmt.Sprintf("[[registry]]\nlocation = %q\ninsecure = true\n", env.addr))

		r := env.check(t, policy, signed.Ref, "json")
		r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
		if len(r.only(t).Signatures) != 1 || r.only(t).Signatures[0].Format != protocol.FormatSigstoreBundle {
			t.Errorf("signatures %+v, want the cosign bundle, found through the referrers client", r.only(t).Signatures)
		}
		u := env.check(t, policy, unsigned.Ref, "text")
		u.want(t, ExitRejected, u.stdout, "signatures: 0 found", "verdict: rejected")
	})

	t.Run("not insecure: plain HTTP refused, as podman refuses it", func(t *testing.T) {
		useRegistriesConf(t, "")

		r := env.check(t, policy, signed.Ref, "text")
		r.want(t, ExitUsage, r.stderr, "http: server gave HTTP response to HTTPS client")
	})

	t.Run("--tls-verify=true: HTTPS even where registries.conf says insecure, as podman", func(t *testing.T) {
		useRegistriesConf(t, fmt.Sprintf("[[registry]]\nlocation = %q\ninsecure = true\n", env.addr))

		r := env.check(t, policy, signed.Ref, "text", "--tls-verify=true")
		r.want(t, ExitUsage, r.stderr, "http: server gave HTTP response to HTTPS client")
	})

	t.Run("blocked = true: refused", func(t *testing.T) {
		useRegistriesConf(t, fmt.Sprintf("[[registry]]\nlocation = %q\ninsecure = true\nblocked = true\n", env.addr))

		r := env.check(t, policy, signed.Ref, "text")
		r.want(t, ExitUsage, r.stderr, "registry "+env.addr+" is blocked")
	})

	t.Run("a mirror: the manifest and the referrers both come from it", func(t *testing.T) {
		// The image and its signature are only in the mirror, under
		// another namespace; the registry itself does not have them.
		mirror := e2e.StartRegistry(t, e2e.RegistryOptions{ReferrersAPI: true})
		inMirror := e2e.PushImage(t, mirror+"/cache/app:1")
		e2e.SignBundle(t, key, inMirror.DigestRef())
		useRegistriesConf(t, fmt.Sprintf("[[registry]]\nprefix = %q\nlocation = %q\ninsecure = true\n"+
			"[[registry.mirror]]\nlocation = %q\ninsecure = true\n", env.addr+"/team", env.addr+"/team", mirror+"/cache"))

		// containers/image looks use-sigstore-attachments up for the place
		// it reads from: the mirror, under its own name.
		through := *env
		through.registriesD = env.writeRegistriesD(t, "docker:\n  "+mirror+"/cache:\n    use-sigstore-attachments: true\n")
		r := through.check(t, policy, env.addr+"/team/app:1", "json")
		r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
		if r.report.Manifest.Digest != inMirror.Digest || len(r.only(t).Signatures) != 1 {
			t.Errorf("manifest %s, signatures %+v; want the mirror's %s and its bundle", r.report.Manifest.Digest, r.only(t).Signatures, inMirror.Digest)
		}
		// Enabled for the registry only (env's registries.d): podman reads
		// no signature from the mirror.
		r = env.check(t, policy, env.addr+"/team/app:1", "json")
		r.want(t, ExitRejected, r.stdout, `"verdict": "rejected"`)
		if r.report.Manifest.Digest != inMirror.Digest || len(r.only(t).Signatures) != 0 {
			t.Errorf("manifest %s, signatures %+v; want the mirror's %s and no signature", r.report.Manifest.Digest, r.only(t).Signatures, inMirror.Digest)
		}
	})
}

func TestCheckUsesAuthJSONCredentials(t *testing.T) {
	env := newCheckEnv(t, e2e.RegistryOptions{})
	env.tlsFromRegistriesConf = true
	key := e2e.GenerateKeyPair(t)
	reg := e2e.StartAuthRegistry(t, "cps", "s3cret")
	pushed := e2e.PushImage(t, reg.OpenAddr+"/team/app:1")
	e2e.SignBundle(t, key, pushed.DigestRef())
	image := reg.Addr + "/team/app:1"
	policy := scopePolicy(t, reg.Addr+"/team", pluginRequirement(keyConfig(key, "digestOnly")))
	useRegistriesConf(t, fmt.Sprintf("[[registry]]\nlocation = %q\ninsecure = true\n", reg.Addr))
	env.registriesD = env.writeRegistriesD(t, "docker:\n  "+reg.Addr+":\n    use-sigstore-attachments: true\n")

	t.Run("with the registry's credentials in auth.json", func(t *testing.T) {
		auth := base64.StdEncoding.EncodeToString([]byte(reg.Username + ":" + reg.Password))
		t.Setenv("REGISTRY_AUTH_FILE", writeFile(t, "auth.json", fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, reg.Addr, auth)))

		r := env.check(t, policy, image, "json")
		r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
		if r.report.Manifest.Digest != pushed.Digest || len(r.only(t).Signatures) != 1 {
			t.Errorf("manifest %s, signatures %+v; want %s and its bundle", r.report.Manifest.Digest, r.only(t).Signatures, pushed.Digest)
		}
	})

	t.Run("without credentials: an error, not a verdict", func(t *testing.T) {
		r := env.check(t, policy, image, "text")
		r.want(t, ExitUsage, r.stderr, "authentication required")
		if strings.Contains(r.stdout, "verdict: ") {
			t.Errorf("a verdict without access to the registry:\n%s", r.stdout)
		}
	})
}
