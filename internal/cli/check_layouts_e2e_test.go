package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/check"
	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/protocol"
)

// check evaluates what podman pull evaluates, on the layouts real builders
// push (issue 17's table, e2e.PushLayouts, real cosign): a single manifest
// itself; for a list, the instance for this machine's platform, sent with
// the list and its signatures, so that a signature of the list counts for
// it; an instance named by its digest with no list.

// layoutsEnv pushes every layout on one registry and points check at the
// layouts' policy and registries.d.
func layoutsEnv(t *testing.T) (*checkEnv, e2e.Layouts, string) {
	t.Helper()
	env := newCheckEnv(t, e2e.RegistryOptions{})
	ls := e2e.PushLayouts(t, env.addr)
	policy, registriesD := ls.PluginPolicy(t, t.TempDir())
	env.registriesD = registriesD
	return env, ls, policy
}

// wantVia is whose signature must decide an accepted layout: the instance's
// own when cosign signed it, else its list's.
func wantVia(c e2e.Layout) string {
	if slices.Contains(c.Signed, c.Instance) {
		return protocol.AcceptedViaImage
	}
	return protocol.AcceptedViaIndex
}

func platformOf(p e2e.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// TestCheckLayouts pushes the layouts once (about 20 s of cosign and
// skopeo) for all of its parts: one subtest per layout, then the built-in
// requirements and the --platform golden output on the same images.
func TestCheckLayouts(t *testing.T) {
	env, ls, policy := layoutsEnv(t)
	t.Run("BuiltinRequirementsSeeTheInstanceAlone", func(t *testing.T) { builtinRequirementsSeeTheInstanceAlone(t, env, ls) })
	t.Run("PlatformGolden", func(t *testing.T) { platformGolden(t, env, ls, policy) })
	for _, c := range ls.Cases {
		t.Run(c.Name, func(t *testing.T) {
			status := ExitRejected
			if c.Accept {
				status = ExitOK
			}
			r := env.check(t, policy, c.Ref, "json")
			if r.status != status {
				t.Fatalf("exit status %d, want %d (accept %v)", r.status, status, c.Accept)
			}
			im := r.only(t)
			if im.Digest != c.Instance || im.Index != c.Index {
				t.Errorf("evaluated %s (index %q), want the instance %s (index %q)", im.Digest, im.Index, c.Instance, c.Index)
			}
			if c.Index != "" && im.Platform != platformOf(e2e.NativePlatform()) {
				t.Errorf("evaluated platform %q, want this machine's %s", im.Platform, platformOf(e2e.NativePlatform()))
			}
			if c.Index == "" && len(r.report.IndexSignatures) != 0 {
				t.Errorf("index signatures %+v without an index", r.report.IndexSignatures)
			}
			req := r.requirement(t, 0)
			switch {
			case c.Accept && req.AcceptedVia != wantVia(c):
				t.Errorf("accepted via %q, want %q: %+v", req.AcceptedVia, wantVia(c), req)
			case !c.Accept && req.Outcome != check.OutcomeRejected:
				t.Errorf("outcome %s (%s), want the plugin's rejection", req.Outcome, req.Reason)
			case !c.Accept && c.Index != "" && len(c.Signed) > 0 && strings.Contains(req.Reason, "no signatures"):
				t.Errorf("reason %q says no signatures of an image whose index is signed", req.Reason)
			}

			text := env.check(t, policy, c.Ref, "text")
			text.want(t, status, text.stdout, "\nverdict: "+r.report.Verdict+" (")
			switch {
			case c.Index != "":
				text.want(t, status, text.stdout, "instance:   "+c.Instance, "on the one podman pull chooses for this machine")
			default:
				if strings.Contains(text.stdout, "instance:") {
					t.Errorf("a single manifest is reported as an instance:\n%s", text.stdout)
				}
			}
			if c.Accept && wantVia(c) == protocol.AcceptedViaIndex {
				text.want(t, status, text.stdout, "accepted through the index's signature", "index signature [0] accepted: public key ")
			}
		})
	}
}

// Built-in requirements are evaluated by containers/image on the instance,
// as podman does: it never sees the index's signature.
func builtinRequirementsSeeTheInstanceAlone(t *testing.T, env *checkEnv, ls e2e.Layouts) {
	builtin := fmt.Sprintf(`{"type": "sigstoreSigned", "keyPath": %q, "signedIdentity": {"type": "matchRepository"}}`, ls.Key.PublicKey)
	policy := scopePolicy(t, ls.Registry, builtin)
	for name, status := range map[string]int{
		"MultiArchIndexSignedLegacy":            ExitRejected,
		"MultiArchInstancesSigned":              ExitOK,
		"InstancesSignedPulledByInstanceDigest": ExitOK,
		"SingleManifestSigned":                  ExitOK,
	} {
		t.Run(name, func(t *testing.T) {
			c := ls.Case(t, name)
			r := env.check(t, policy, c.Ref, "json")
			if r.status != status {
				t.Fatalf("exit status %d, want %d", r.status, status)
			}
			if im := r.only(t); im.Digest != c.Instance || im.Requirements[0].AcceptedVia != "" {
				t.Errorf("evaluated %+v, want the instance %s judged by containers/image", im, c.Instance)
			}
		})
	}
}

// normalizer replaces what changes from run to run (the registry's port,
// digests, the keys' fingerprints, temporary paths) with names, for golden
// output.
func normalizer(ls e2e.Layouts, c e2e.Layout, policy string) func(string) string {
	pairs := []string{policy, "POLICY", filepath.Dir(policy), "DIR", ls.Registry, "REGISTRY"}
	name := func(d, as string) {
		hex := strings.TrimPrefix(d, "sha256:")
		pairs = append(pairs, d, "sha256:"+as, "sha256-"+hex, "sha256-"+as)
	}
	name(c.Image.Digest, "INDEX")
	for _, in := range c.Image.Instances {
		as := "INSTANCE-" + strings.ToUpper(strings.ReplaceAll(platformOf(in.Platform), "/", "-"))
		switch platformOf(in.Platform) {
		case platformOf(e2e.NativePlatform()):
			as = "NATIVE"
		case platformOf(e2e.OtherPlatform()):
			as = "OTHER"
		}
		name(in.Digest, as)
	}
	pairs = append(pairs, platformOf(e2e.NativePlatform()), "NATIVE-PLATFORM", platformOf(e2e.OtherPlatform()), "OTHER-PLATFORM")
	replacer := strings.NewReplacer(pairs...)
	anyDigest := regexp.MustCompile(`sha256:[0-9a-f]{64}`)
	return func(s string) string { return anyDigest.ReplaceAllString(replacer.Replace(s), "sha256:UNNAMED") }
}

// platformGolden: --platform all, another platform, linux/arm64 and a
// platform the index lacks (exit 2, as podman pull), text and JSON.
func platformGolden(t *testing.T, env *checkEnv, ls e2e.Layouts, policy string) {
	for _, tt := range []struct {
		name, layout, platform string
		status                 int
	}{
		{"all-index-signed", "MultiArchIndexSignedLegacy", "all", ExitOK},
		{"all-buildx", "BuildxIndexSignedLegacy", "all", ExitOK},
		{"all-unsigned", "MultiArchUnsigned", "all", ExitRejected},
		{"other-platform-instances-signed", "MultiArchInstancesSigned", platformOf(e2e.OtherPlatform()), ExitOK},
		{"other-platform-index-signed", "MultiArchIndexSignedLegacy", platformOf(e2e.OtherPlatform()), ExitOK},
		{"linux-arm64", "MultiArchIndexSignedLegacy", "linux/arm64", ExitOK},
		{"no-match", "MultiArchIndexSignedLegacy", "linux/s390x", ExitUsage},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ls.Case(t, tt.layout)
			norm := normalizer(ls, c, policy)
			for _, format := range []string{"text", "json"} {
				r := env.check(t, policy, c.Ref, format, "--platform", tt.platform)
				if r.status != tt.status {
					t.Errorf("%s: exit status %d, want %d", format, r.status, tt.status)
				}
				out := r.stdout
				if tt.status == ExitUsage && format == "text" {
					out = r.stderr
				}
				ext := map[string]string{"text": ".txt", "json": ".json"}[format]
				golden(t, filepath.Join("testdata", "check-platform", tt.name+ext), norm(out))
			}
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *updateScripts {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -run '%s' -update rewrites it):\n%s", path, t.Name(), got)
	}
}
