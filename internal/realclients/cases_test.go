package realclients

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/internal/upstreamclients"
)

// The cases every client gets. Each starts its own registry: some change
// what it serves (a moved tag), and a failure stays in its case.

func TestPodmanPull(t *testing.T) { runCases(t, podmanPull) }

func TestSkopeoCopy(t *testing.T) { runCases(t, skopeoCopy) }

// TestImageProxy: OpenImage is where the proxy evaluates the policy (the
// top level, then, for a list, the instance it chooses; it refuses only
// when both are refused), so OpenImage's reply is the verdict.
func TestImageProxy(t *testing.T) { runCases(t, imageProxy) }

type testCase struct {
	name string
	run  func(t *testing.T, c client)
	// pristine: the case needs the client's build against containers/image
	// as released.
	pristine bool
	// measured: the case measures the client's process (client.measured).
	measured bool
	// callerDeadline: the case needs a client flag bounding the whole
	// operation (client.deadlineFlag).
	callerDeadline bool
}

func runCases(t *testing.T, c client) {
	e2e.SkipIfShort(t)
	for _, tc := range cases {
		if tc.pristine && !c.hasPristine || tc.callerDeadline && c.deadlineFlag == "" {
			continue // listed per client in docs/upstream.md
		}
		if tc.measured && !c.measured {
			continue
		}
		t.Run(tc.name, func(t *testing.T) { tc.run(t, c) })
	}
	t.Run("Layouts", func(t *testing.T) { runLayouts(t, c) })
}

// pluginRejected is how the patch words a plugin's reject verdict.
const pluginRejected = `Policy plugin "sigstore" rejected the image: `

// pluginRejected is how c words the sigstore plugin's reject verdict.
func (c client) pluginRejected() string { return c.policyRefusal + pluginRejected }

var cases = []testCase{
	{name: "KeylessGitLab", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		img := e2e.PushImage(t, s.addr+"/team/gitlab:1.4")
		in := e2e.AttachGitLabKeyless(t, img)
		policy := s.policy(t, e2e.PluginRequirement("sigstore", e2e.GitLabConfig(t, in, e2e.GitLabSubject)))
		c.pull(t, s, policy, img.Ref, false).wantAccepted(t, img.Manifest)
	}},
	{name: "KeyLegacy", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		img, _, sigstore := s.signed(t, "keyed")
		policy := s.policy(t, sigstore)
		c.pull(t, s, policy, img.Ref, false).wantAccepted(t, img.Manifest)
		// By digest too: the reference the user asked for is what the plugin matches.
		c.pull(t, s, policy, img.DigestRef(), false).wantAccepted(t, img.Manifest)
	}},
	{name: "BundleViaReferrersTag", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		key := e2e.GenerateKeyPair(t)
		img := e2e.PushImage(t, s.addr+"/team/bundled:1")
		e2e.SignBundle(t, key, img.DigestRef())
		if tags := e2e.Tags(t, img.Repository); len(tags) != 2 {
			t.Fatalf("tags %q, want the image's and cosign's referrers tag %s", tags, e2e.FallbackTag(img.Digest))
		}
		policy := s.policy(t, e2e.PluginRequirement("sigstore", e2e.KeyConfig(key, "digestOnly")))
		c.pull(t, s, policy, img.Ref, false).wantAccepted(t, img.Manifest)

		wantBuiltinRefusesBundle(t, c, s, key, img)
		// Not read where registries.d does not enable attachments.
		off := *s
		off.registriesD = e2e.WriteRegistriesD(t, s.addr, false)
		c.pull(t, &off, policy, img.Ref, false).wantRefused(t, c.pluginRejected(), "no signatures: the image is not signed")
	}},
	{name: "BundleViaReferrersAPI", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{ReferrersAPI: true})
		key := e2e.GenerateKeyPair(t)
		img := e2e.PushImage(t, s.addr+"/team/bundled:1")
		e2e.SignBundle(t, key, img.DigestRef())
		if tags := e2e.Tags(t, img.Repository); len(tags) != 1 {
			t.Fatalf("tags %q: cosign wrote a referrers tag, so the API was not used", tags)
		}
		policy := s.policy(t, e2e.PluginRequirement("sigstore", e2e.KeyConfig(key, "digestOnly")))
		c.pull(t, s, policy, img.Ref, false).wantAccepted(t, img.Manifest)
		wantBuiltinRefusesBundle(t, c, s, key, img)
	}},
	// A list whose signature alone is the index's (cosign sign of the index
	// digest, without --recursive): the plugin accepts this machine's
	// instance through it (Layouts/MultiArchIndexSigned*), while
	// sigstoreSigned decides as before, on the level the client evaluates;
	// by the instance's digest the client sees no list, and the plugin
	// refuses.
	{name: "IndexSignedBuiltinDecidesAsBefore", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		key := e2e.GenerateKeyPair(t)
		for _, form := range []struct {
			name           string
			sign           func(testing.TB, e2e.KeyPair, string)
			signedIdentity string
		}{
			{"legacy", e2e.SignLegacy, "matchRepository"},
			// A cosign v3 bundle's statement names the digest, not the repository.
			{"bundle", e2e.SignBundle, "digestOnly"},
		} {
			img := e2e.PushIndex(t, s.addr+"/team/multi-"+form.name+":1")
			form.sign(t, key, img.DigestRef())
			instance := nativeInstance(t, img)

			o := c.pull(t, s, s.policy(t, e2e.SigstoreSigned(key)), img.Ref, false)
			switch {
			case form.name == "legacy" && c.evaluatesList:
				// The image proxy evaluates the list too and accepts when
				// either level is accepted, as it does without the series.
				o.wantAccepted(t, instance.Manifest)
			default:
				o.wantRefused(t, "A signature was required, but no signature exists")
			}
			policy := s.policy(t, e2e.PluginRequirement("sigstore", e2e.KeyConfig(key, form.signedIdentity)))
			c.pull(t, s, policy, img.Repository+"@"+instance.Digest, false).
				wantRefused(t, c.pluginRejected(), "no signatures: the image is not signed")
		}
	}},
	{name: "Unsigned", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		key := e2e.GenerateKeyPair(t)
		img := e2e.PushImage(t, s.addr+"/team/unsigned:1")
		policy := s.policy(t, e2e.PluginRequirement("sigstore", e2e.KeyConfig(key, "matchRepository")))
		c.pull(t, s, policy, img.Ref, false).wantRefused(t, c.pluginRejected(), "no signatures: the image is not signed")
	}},
	{name: "WrongIdentity", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		img := e2e.PushImage(t, s.addr+"/team/other-project:1")
		in := e2e.AttachGitLabKeyless(t, img)
		wanted := "https://gitlab.com/group/other-project//.gitlab-ci.yml@refs/heads/main"
		policy := s.policy(t, e2e.PluginRequirement("sigstore", e2e.GitLabConfig(t, in, wanted)))
		c.pull(t, s, policy, img.Ref, false).wantRefused(t, c.pluginRejected(), "no signature accepted: ",
			"certificate subject "+e2e.GitLabSubject, "matches no identity")
	}},
	{name: "WrongKey", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		img, _, _ := s.signed(t, "keyed")
		policy := s.policy(t, e2e.PluginRequirement("sigstore", e2e.KeyConfig(e2e.GenerateKeyPair(t), "matchRepository")))
		c.pull(t, s, policy, img.Ref, false).wantRefused(t, c.pluginRejected(), "no signature accepted: ",
			"signature 0: signature was not made by the configured key (sha256:")
	}},
	{name: "MovedTag", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		signed, _, sigstore := s.signed(t, "moved")
		policy := s.policy(t, sigstore)
		c.pull(t, s, policy, signed.Ref, false).wantAccepted(t, signed.Manifest)

		// Another image, then the tag moved to it, as a later push would.
		moved := e2e.PushImage(t, s.addr+"/team/moved:2")
		e2e.PutManifest(t, moved.Repository, "1", moved.MIMEType, moved.Manifest)
		c.pull(t, s, policy, signed.Ref, false).wantRefused(t, c.pluginRejected(), "no signatures: the image is not signed")
		// The old signature still holds, for the old digest only.
		c.pull(t, s, policy, signed.DigestRef(), false).wantAccepted(t, signed.Manifest)
	}},

	// A plugin that cannot be used refuses the images of its scope when they
	// are evaluated (nothing runs at policy load), as a failure, never an
	// accept, even where another requirement of the scope accepts.
	{name: "MissingPlugin", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		img, _, sigstore := s.signed(t, "missing")
		policy := s.policy(t, sigstore, e2e.PluginRequirement("nosuch", `{}`))
		c.pull(t, s, policy, img.Ref, false).wantRefused(t, `Policy plugin "nosuch" failed: `,
			`plugin "nosuch": not found in ["`+s.plugins)
	}},
	{name: "CrashingPlugin", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		img, _, sigstore := s.signed(t, "crash")
		e2e.FakePlugin(t, s.plugins, "crashy", e2e.CrashingVerify)
		policy := s.policy(t, sigstore, e2e.PluginRequirement("crashy", `{}`))
		c.pull(t, s, policy, img.Ref, false).wantRefused(t, `Policy plugin "crashy" failed: `,
			"exit status 139", "segmentation fault in verify")
	}},
	{name: "HangingPlugin", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		img, _, sigstore := s.signed(t, "hang")
		pids := filepath.Join(t.TempDir(), "pids")
		e2e.FakePlugin(t, s.plugins, "hangs", e2e.HangingVerify(pids))
		policy := s.policy(t, sigstore, e2e.PluginRequirement("hangs", `{}`))
		// The clients have no flag for the host's deadline: its default holds.
		const deadline = 30 * time.Second
		start := time.Now()
		c.pull(t, s, policy, img.Ref, false).wantRefused(t, `Policy plugin "hangs" failed: `,
			"timed out after "+deadline.String(), "its process group was killed")
		if took := time.Since(start); took > deadline+30*time.Second {
			t.Errorf("refused after %s, want soon after the host's %s deadline", took, deadline)
		}
		e2e.WantDead(t, pids, 2) // the plugin's shell and its child
	}},
	// The caller's own deadline (skopeo --command-timeout: the context
	// copy.Image gets) ends the plugin's run too, its whole process group,
	// long before the host's 30 s.
	{name: "HangingPluginCallersDeadline", callerDeadline: true, run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		img, _, sigstore := s.signed(t, "hang")
		pids := filepath.Join(t.TempDir(), "pids")
		e2e.FakePlugin(t, s.plugins, "hangs", e2e.HangingVerify(pids))
		policy := s.policy(t, sigstore, e2e.PluginRequirement("hangs", `{}`))
		// Long enough for the registry round trips before the plugin runs,
		// on a loaded machine; far below the host's 30 s.
		const deadline = 10 * time.Second
		s.args = []string{c.deadlineFlag, deadline.String()}
		start := time.Now()
		c.pull(t, s, policy, img.Ref, false).wantRefused(t, `Policy plugin "hangs" failed: `,
			"timed out at the caller's deadline", "its process group was killed")
		if took := time.Since(start); took > deadline+15*time.Second {
			t.Errorf("refused after %s, want soon after the caller's %s deadline", took, deadline)
		}
		e2e.WantDead(t, pids, 2) // the plugin's shell and its child
	}},
	{name: "GroupWritablePlugin", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		img, _, sigstore := s.signed(t, "writable")
		// The real sigstore plugin, which would accept the image.
		if err := os.Chmod(filepath.Join(s.plugins, "sigstore"), 0o775); err != nil {
			t.Fatal(err)
		}
		c.pull(t, s, s.policy(t, sigstore), img.Ref, false).wantRefused(t, `Policy plugin "sigstore" failed: `,
			"is writable by group or others (mode 0775)")
	}},

	// The cost of a plugin requirement in a pull: one verify process per
	// requirement per image evaluated, nothing when policy.json is loaded.
	{name: "PluginRunsOncePerImage", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		img, key, _ := s.signed(t, "counted")
		log := e2e.CountingPlugin(t, s.plugins, "counted", upstreamclients.PluginBinary(t))
		one := e2e.PluginRequirement("counted", e2e.KeyConfig(key, "matchRepository"))
		other := e2e.PluginRequirement("counted", e2e.KeyConfig(key, "digestOnly"))
		for _, tt := range []struct {
			name         string
			requirements []string
			want         []string
		}{
			{"one plugin requirement", []string{one}, []string{"verify"}},
			{"beside sigstoreSigned", []string{e2e.SigstoreSigned(key), one}, []string{"verify"}},
			{"two plugin requirements", []string{one, other}, []string{"verify", "verify"}},
		} {
			c.pull(t, s, s.policy(t, tt.requirements...), img.Ref, false).wantAccepted(t, img.Manifest)
			if got := e2e.Invocations(t, log); !slices.Equal(got, tt.want) {
				t.Errorf("%s: the plugin ran for %q, want %q", tt.name, got, tt.want)
			}
		}
	}},

	// A scope holding sigstoreSigned and a plugin requirement accepts only
	// when both do, as for any two requirements.
	{name: "MixedScopeBuiltinAcceptsPluginRejects", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		img, key, _ := s.signed(t, "both")
		other := e2e.GenerateKeyPair(t)
		policy := s.policy(t, e2e.SigstoreSigned(key), e2e.PluginRequirement("sigstore", e2e.KeyConfig(other, "matchRepository")))
		c.pull(t, s, policy, img.Ref, false).wantRefused(t, c.pluginRejected(), "no signature accepted: ",
			"signature was not made by the configured key (sha256:")
	}},
	{name: "MixedScopePluginAcceptsBuiltinRejects", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		img, _, sigstore := s.signed(t, "both")
		policy := s.policy(t, e2e.SigstoreSigned(e2e.GenerateKeyPair(t)), sigstore)
		// containers/image's own wording for a sigstoreSigned rejection.
		c.pull(t, s, policy, img.Ref, false).wantRefused(t, c.policyRefusal, "cryptographic signature verification failed")
	}},
	{name: "MixedScopeBothAccept", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		img, key, sigstore := s.signed(t, "both")
		c.pull(t, s, s.policy(t, e2e.SigstoreSigned(key), sigstore), img.Ref, false).wantAccepted(t, img.Manifest)
	}},

	// Policy is per scope: a plugin named only in another scope plays no
	// part in this one's pulls, missing or not (containers-policy-plugin(5):
	// no plugin runs when policy.json is loaded).
	{name: "MissingPluginInAnotherScope", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		img, _, sigstore := s.signed(t, "app")
		policy := e2e.WritePolicy(t, map[string][]string{
			s.addr + "/team":  {sigstore},
			s.addr + "/other": {e2e.PluginRequirement("nosuch", `{}`)},
		})
		c.pull(t, s, policy, img.Ref, false).wantAccepted(t, img.Manifest)
	}},
	// Nor does one that is installed: it never runs for this scope's images,
	// with a config it accepts or one it would refuse.
	{name: "PluginInAnotherScopeNeverRuns", run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		img, key, sigstore := s.signed(t, "app")
		log := e2e.CountingPlugin(t, s.plugins, "counted", upstreamclients.PluginBinary(t))
		for _, other := range []string{
			e2e.PluginRequirement("counted", e2e.KeyConfig(key, "matchRepository")),
			e2e.PluginRequirement("counted", `{"no such field": true}`),
		} {
			policy := e2e.WritePolicy(t, map[string][]string{
				s.addr + "/team":  {sigstore},
				s.addr + "/other": {other},
			})
			c.pull(t, s, policy, img.Ref, false).wantAccepted(t, img.Manifest)
			if got := e2e.Invocations(t, log); len(got) != 0 {
				t.Errorf("other scope %s: a pull from this scope ran its plugin for %q", other, got)
			}
		}
	}},

	// The signature budget (1000 entries, 64 MiB per request): referrers
	// that cannot all be read cannot make the client refuse a signed image
	// or use unbounded memory.
	{name: "BigReferrersDoNotCrowdOutAValidSignature", measured: true, run: bigReferrersDoNotCrowdOutAValidSignature},

	// Why the patch is needed: the client as released refuses a policy.json
	// holding a plugin requirement as a whole, with a properly signed image
	// and the plugin installed.
	{name: "UnpatchedRefusesPluginPolicy", pristine: true, run: func(t *testing.T, c client) {
		s := newSetting(t, e2e.RegistryOptions{})
		img, key, sigstore := s.signed(t, "app")
		policy := s.policy(t, sigstore)
		c.pull(t, s, policy, img.Ref, true).wantRefused(t, `Unknown policy requirement type "plugin"`)
		// The same client, image and setting with a built-in requirement
		// only: the refusal is the plugin requirement's.
		c.pull(t, s, s.policy(t, e2e.SigstoreSigned(key)), img.Ref, true).wantAccepted(t, img.Manifest)
		// And the same policy.json, unchanged, is what the patched client accepts.
		c.pull(t, s, policy, img.Ref, false).wantAccepted(t, img.Manifest)
	}},
}

// wantBuiltinRefusesBundle: sigstoreSigned with the key that made the bundle
// refuses the bundle-only image, in the patched client as in the client as
// released (where there is one): built-in requirements cannot verify bundles.
func wantBuiltinRefusesBundle(t *testing.T, c client, s *setting, key e2e.KeyPair, img e2e.Image) {
	t.Helper()
	policy := s.policy(t, e2e.SigstoreSigned(key))
	const noSignature = "A signature was required, but no signature exists"
	c.pull(t, s, policy, img.Ref, false).wantRefused(t, noSignature)
	if c.hasPristine {
		c.pull(t, s, policy, img.Ref, true).wantRefused(t, noSignature)
	}
}

// nativeInstance is the instance of the list img a client on this machine
// chooses.
func nativeInstance(t *testing.T, img e2e.Image) e2e.Instance {
	t.Helper()
	for _, inst := range img.Instances {
		if inst.Platform == e2e.NativePlatform() {
			return inst
		}
	}
	t.Fatalf("%s has no instance for %+v", img.Ref, e2e.NativePlatform())
	return e2e.Instance{}
}

// runLayouts pulls every layout of issue 17's table (e2e.PushLayouts) under
// the table's policy, by the reference the table names, and asserts the
// table's verdict.
func runLayouts(t *testing.T, c client) {
	s := newSetting(t, e2e.RegistryOptions{})
	ls := e2e.PushLayouts(t, s.addr)
	policy, registriesD := ls.PluginPolicy(t, t.TempDir())
	s.registriesD = registriesD
	for _, l := range ls.Cases {
		t.Run(l.Name, func(t *testing.T) {
			o := c.pull(t, s, policy, l.Ref, false)
			if !l.Accept {
				o.wantRefused(t, c.pluginRejected())
				return
			}
			o.wantAccepted(t, layoutManifest(t, l))
		})
	}
}

// layoutManifest is the manifest a client on this machine takes from l.
func layoutManifest(t *testing.T, l e2e.Layout) []byte {
	t.Helper()
	if l.Image.Digest == l.Instance {
		return l.Image.Manifest
	}
	for _, inst := range l.Image.Instances {
		if inst.Digest == l.Instance {
			return inst.Manifest
		}
	}
	t.Fatalf("layout %s: instance %s is not in the image pushed", l.Name, l.Instance)
	return nil
}
