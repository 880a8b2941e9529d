package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/check"
	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/protocol"
	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// End-to-end acceptance of check: a real registry (Debian's docker-registry,
// no OCI referrers API, so bundles go through the referrers tag fallback),
// images pushed by real skopeo, signatures made or attached by real cosign,
// the plugin run as a process through the host package.

func TestCheckAcceptsSignedImages(t *testing.T) {
	env := newCheckEnv(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)

	t.Run("a keyless GitLab CI signature attached in cosign's legacy layout", func(t *testing.T) {
		img := e2e.PushImage(t, env.addr+"/team/gitlab:1.4")
		in := gitlabLegacy(t, img)
		policy := env.policy(t, pluginRequirement(gitlabConfig(t, in, gitlabSubject)))

		r := env.check(t, policy, img.Ref, "json")
		r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
		req := r.requirement(t, 0)
		if req.Outcome != check.OutcomeAccepted || req.AcceptedSignature == nil ||
			*req.AcceptedSignature.Subject != gitlabSubject || *req.AcceptedSignature.Issuer != "https://gitlab.com" {
			t.Errorf("requirement %+v, want accepted for the GitLab subject", req)
		}
		if r.report.Manifest.Digest != img.Digest || r.report.Manifest.Kind != "image" {
			t.Errorf("manifest %+v, want the image %s", r.report.Manifest, img.Digest)
		}
		if len(r.only(t).Signatures) != 1 || r.only(t).Signatures[0].Format != protocol.FormatSigstoreJSON ||
			r.only(t).Signatures[0].Source != e2e.SigTag(img.Digest)+" layer 0" {
			t.Errorf("signatures %+v, want the one cosign attachment", r.only(t).Signatures)
		}

		text := env.check(t, policy, "docker://"+img.Ref, "text")
		text.want(t, ExitOK, text.stdout,
			"requirement transports.docker[\""+env.addr+"/team\"][0] (plugin sigstore): accepted",
			"subject "+gitlabSubject,
			"verdict: accepted")
	})

	t.Run("a cosign key signature in the legacy layout, checked by the plugin and by containers/image", func(t *testing.T) {
		img := e2e.PushImage(t, env.addr+"/team/keyed:1")
		e2e.SignLegacy(t, key, img.DigestRef())
		builtin := `{"type": "sigstoreSigned", "keyPath": "` + key.PublicKey + `", "signedIdentity": {"type": "matchRepository"}}`
		policy := env.policy(t, pluginRequirement(keyConfig(key, "matchRepository"))+","+builtin)

		r := env.check(t, policy, img.Ref, "json")
		r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
		if req := r.requirement(t, 1); req.Type != "sigstoreSigned" || req.Outcome != check.OutcomeAccepted || req.Reason != "accepted by containers/image" {
			t.Errorf("built-in requirement %+v, want accepted by containers/image", req)
		}
		if a := r.requirement(t, 0).AcceptedSignature; a == nil || a.PublicKey == nil || !strings.HasPrefix(*a.PublicKey, "sha256:") {
			t.Errorf("accepted signature %+v, want a key signature", a)
		}

		// One line per signature verdict, saying what accepted it.
		text := env.check(t, policy, img.Ref, "text")
		text.want(t, ExitOK, text.stdout, "  signature [0] accepted: public key sha256:", ", signed reference "+img.Repository)
		if n := strings.Count(text.stdout, "signature [0]") + strings.Count(text.stdout, "signature 0"); n != 1 {
			t.Errorf("signature 0's verdict is said %d times, want once per requirement:\n%s", n, text.stdout)
		}
	})

	t.Run("a scope of built-in requirements only is containers/image's verdict", func(t *testing.T) {
		img := e2e.PushImage(t, env.addr+"/team/builtin:1")
		e2e.SignLegacy(t, key, img.DigestRef())
		policy := env.policy(t, `{"type": "sigstoreSigned", "keyPath": "`+key.PublicKey+`", "signedIdentity": {"type": "matchRepository"}}`)

		r := env.check(t, policy, img.Ref, "text")
		r.want(t, ExitOK, r.stdout, "signatures: not collected (no plugin requirement applies)",
			"(sigstoreSigned): accepted", "verdict: accepted")
	})

	t.Run("a cosign key signature in the v3 bundle format, found through the referrers tag", func(t *testing.T) {
		img := e2e.PushImage(t, env.addr+"/team/bundled:1")
		e2e.SignBundle(t, key, img.DigestRef())
		policy := env.policy(t, pluginRequirement(keyConfig(key, "digestOnly")))

		r := env.check(t, policy, img.Ref, "json")
		r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
		if len(r.only(t).Signatures) != 1 || r.only(t).Signatures[0].Format != protocol.FormatSigstoreBundle {
			t.Errorf("signatures %+v, want one sigstore-bundle", r.only(t).Signatures)
		}
	})

	t.Run("a multi-platform image signed at the index: this machine's instance, through the index", func(t *testing.T) {
		img := e2e.PushIndex(t, env.addr+"/team/multi:1")
		e2e.SignLegacy(t, key, img.DigestRef())
		policy := env.policy(t, pluginRequirement(keyConfig(key, "matchRepository")))
		native := nativeInstance(t, img)

		r := env.check(t, policy, img.Ref, "json")
		r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
		m := r.report.Manifest
		if m.Digest != img.Digest || m.Kind != "index" || m.MediaType != e2e.MediaTypeOCIIndex || len(m.Instances) != 2 ||
			m.Instances[0].Platform != "linux/amd64" || m.Instances[1].Platform != "linux/arm64/v8" {
			t.Errorf("manifest %+v, want the index %s with its 2 instances", m, img.Digest)
		}
		if im := r.only(t); im.Digest != native.Digest || im.Index != img.Digest || im.Requirements[0].AcceptedVia != protocol.AcceptedViaIndex {
			t.Errorf("evaluated %+v, want the instance %s accepted through the index %s", im, native.Digest, img.Digest)
		}
		text := env.check(t, policy, img.Ref, "text")
		text.want(t, ExitOK, text.stdout, img.Digest+" ("+e2e.MediaTypeOCIIndex+")",
			"an index of 2 instances; the policy is evaluated on the one podman pull chooses for this machine",
			img.Instances[1].Digest+" linux/arm64/v8", "instance:   "+native.Digest, "accepted through the index's signature")
	})
}

// nativeInstance is img's instance for this machine's platform.
func nativeInstance(t *testing.T, img e2e.Image) e2e.Instance {
	t.Helper()
	for _, in := range img.Instances {
		if in.Platform.OS == e2e.NativePlatform().OS && in.Platform.Architecture == e2e.NativePlatform().Architecture {
			return in
		}
	}
	t.Fatalf("%s has no instance for %+v", img.Ref, e2e.NativePlatform())
	return e2e.Instance{}
}

func TestCheckRejects(t *testing.T) {
	env := newCheckEnv(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)

	t.Run("an unsigned image", func(t *testing.T) {
		img := e2e.PushImage(t, env.addr+"/team/unsigned:1")
		policy := env.policy(t, pluginRequirement(keyConfig(key, "matchRepository")))

		r := env.check(t, policy, img.Ref, "text")
		r.want(t, ExitRejected, r.stdout, "signatures: 0 found (sigstore-bundle, sigstore-json)", "(plugin sigstore): rejected", "no signatures", "verdict: rejected")
	})

	t.Run("a signed image under the wrong identity", func(t *testing.T) {
		img := e2e.PushImage(t, env.addr+"/team/other-project:1")
		in := gitlabLegacy(t, img)
		wanted := "https://gitlab.com/group/other-project//.gitlab-ci.yml@refs/heads/main"
		policy := env.policy(t, pluginRequirement(gitlabConfig(t, in, wanted)))

		r := env.check(t, policy, img.Ref, "json")
		r.want(t, ExitRejected, r.stdout, `"verdict": "rejected"`)
		req := r.requirement(t, 0)
		if req.Outcome != check.OutcomeRejected || !strings.Contains(req.Reason, "matches no identity") ||
			len(req.Signatures) != 1 || req.Signatures[0].Accepted || !strings.Contains(req.Signatures[0].Reason, gitlabSubject) {
			t.Errorf("requirement %+v, want signature 0 rejected naming its subject %s", req, gitlabSubject)
		}
	})

	t.Run("an image whose tag moved to an unsigned digest", func(t *testing.T) {
		signed := e2e.PushImage(t, env.addr+"/team/moved:1")
		e2e.SignLegacy(t, key, signed.DigestRef())
		policy := env.policy(t, pluginRequirement(keyConfig(key, "matchRepository")))
		if r := env.check(t, policy, signed.Ref, "text"); r.status != ExitOK {
			t.Fatalf("before the move: exit %d, want the signed image accepted", r.status)
		}
		// Another image, then the tag moved to it (as a later push would).
		moved := e2e.PushImage(t, env.addr+"/team/moved:2")
		e2e.PutManifest(t, moved.Repository, "1", moved.MIMEType, moved.Manifest)
		moved.Ref = env.addr + "/team/moved:1"

		r := env.check(t, policy, moved.Ref, "text")
		r.want(t, ExitRejected, r.stdout, "manifest:   "+moved.Digest, "signatures: 0 found (sigstore-bundle, sigstore-json)", "no signatures", "verdict: rejected")
		// The old signature still exists, for the old digest only.
		if r := env.check(t, policy, signed.DigestRef(), "text"); r.status != ExitOK {
			t.Errorf("the signed digest: exit %d, want accepted", r.status)
		}
	})

	t.Run("cosign attachments where registries.d does not enable them", func(t *testing.T) {
		img := e2e.PushImage(t, env.addr+"/team/no-attachments:1")
		e2e.SignLegacy(t, key, img.DigestRef())
		policy := env.policy(t, pluginRequirement(keyConfig(key, "matchRepository")))
		off := *env
		off.registriesD = env.writeRegistriesD(t, "docker:\n  "+env.addr+":\n    use-sigstore-attachments: false\n")

		r := off.check(t, policy, img.Ref, "text")
		r.want(t, ExitRejected, r.stdout, "signatures: 0 found (none looked for: registries.d does not set use-sigstore-attachments", "verdict: rejected")
	})

	t.Run("a built-in requirement that rejects while the plugin accepts", func(t *testing.T) {
		img := e2e.PushImage(t, env.addr+"/team/both:1")
		e2e.SignLegacy(t, key, img.DigestRef())
		other := e2e.GenerateKeyPair(t)
		builtin := `{"type": "sigstoreSigned", "keyPath": "` + other.PublicKey + `", "signedIdentity": {"type": "matchRepository"}}`
		policy := env.policy(t, pluginRequirement(keyConfig(key, "matchRepository"))+","+builtin)

		r := env.check(t, policy, img.Ref, "json")
		r.want(t, ExitRejected, r.stdout, `"verdict": "rejected"`)
		if req := r.requirement(t, 0); req.Outcome != check.OutcomeAccepted {
			t.Errorf("plugin requirement %+v, want accepted", req)
		}
		if req := r.requirement(t, 1); req.Outcome != check.OutcomeRejected || !strings.HasPrefix(req.Reason, "containers/image: ") {
			t.Errorf("built-in requirement %+v, want rejected by containers/image", req)
		}
	})

	t.Run("a multi-platform image whose other platform's instance alone is signed", func(t *testing.T) {
		// podman pull evaluates this machine's instance; so does check.
		img := e2e.PushIndex(t, env.addr+"/team/per-instance:1")
		native := nativeInstance(t, img)
		for i, in := range img.Instances {
			if in.Digest != native.Digest {
				e2e.SignLegacy(t, key, img.InstanceRef(i))
			}
		}
		policy := env.policy(t, pluginRequirement(keyConfig(key, "matchRepository")))

		r := env.check(t, policy, img.Ref, "text")
		r.want(t, ExitRejected, r.stdout, "manifest:   "+img.Digest, "an index of 2 instances", "index signatures: 0 found (sigstore-bundle, sigstore-json)",
			"instance:   "+native.Digest, "signatures: 0 found (sigstore-bundle, sigstore-json)", "verdict: rejected")
	})
}

// crashingPlugin answers validate-config correctly and crashes on anything
// else: verify (check never runs metadata).
const crashingPlugin = `#!/bin/sh
case "$1" in
validate-config) cat >/dev/null; echo '{"apiVersion":"containers-policy-plugin/v1alpha1","kind":"ValidateConfigResponse","valid":true,"errors":[],"warnings":[]}' ;;
*) cat >/dev/null; echo "segmentation fault in verify" >&2; exit 139 ;;
esac
`

func TestCheckRejectsWhenAPluginFails(t *testing.T) {
	env := newCheckEnv(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, env.addr+"/team/app:1")
	e2e.SignLegacy(t, key, img.DigestRef())
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "crashy"), []byte(crashingPlugin), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(protocol.PluginDirsEnv, dir+":"+os.Getenv(protocol.PluginDirsEnv))
	// The sigstore plugin accepts; the crashing one must still sink the image.
	policy := env.policy(t, pluginRequirement(keyConfig(key, "matchRepository"))+`, {"type": "plugin", "plugin": "crashy", "config": {}}`)

	r := env.check(t, policy, img.Ref, "json")
	r.want(t, ExitRejected, r.stdout, `"verdict": "rejected"`)
	if req := r.requirement(t, 0); req.Outcome != check.OutcomeAccepted {
		t.Errorf("sigstore requirement %+v, want accepted", req)
	}
	req := r.requirement(t, 1)
	if want := `plugin "crashy" verify: exit status 139; stderr: segmentation fault in verify`; req.Outcome != check.OutcomeFailed || req.Reason != want {
		t.Errorf("crashy requirement: outcome %q, reason %q; want failed with %q", req.Outcome, req.Reason, want)
	}
}

func TestCheckErrorsAreNotVerdicts(t *testing.T) {
	env := newCheckEnv(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, env.addr+"/team/app:1")
	good := env.policy(t, pluginRequirement(keyConfig(key, "matchRepository")))

	tests := []struct {
		name, policy, image, want string
	}{
		{"an unreachable registry", good, "127.0.0.1:1/team/app:1", "127.0.0.1:1"},
		{"a missing image", good, env.addr + "/team/missing:1", "manifest unknown"},
		{"a missing tag", good, env.addr + "/team/app:2", "manifest unknown"},
		{"an invalid image reference", good, "Registry.example.com/UPPER:1", "invalid image reference"},
		{"a missing policy", "/nonexistent/policy.json", img.Ref, "no such file or directory"},
		{"an invalid policy", writeFile(t, "policy.json", `{"default": [{"type": "reject"}], "default": []}`), img.Ref, `duplicate key "default"`},
		{
			"an invalid plugin config", env.policy(t, pluginRequirement(`{"keyPath": "/nonexistent/cosign.pub"}`)), img.Ref,
			`policy transports.docker["` + env.addr + `/team"][0]: plugin "sigstore" verify: INVALID_CONFIG: config.keyPath: `,
		},
		{
			"a plugin that is not installed", env.policy(t, `{"type": "plugin", "plugin": "nosuch", "config": {}}`), img.Ref,
			`policy transports.docker["` + env.addr + `/team"][0]: plugin "nosuch": not found`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.check(t, tt.policy, tt.image, "json")
			r.want(t, ExitUsage, r.stderr, tt.want)
			r.want(t, ExitUsage, r.stdout, `"verdict": "error"`)
		})
	}
}

// The patched containers/image reads Sigstore bundles behind the same
// registries.d switch as cosign attachments (use-sigstore-attachments, patch
// 0002), so podman finds a cosign v3 signature only where it is on.
func TestCheckReadsBundlesOnlyWhereRegistriesDEnablesSigstoreAttachments(t *testing.T) {
	for _, tt := range []struct {
		name     string
		registry e2e.RegistryOptions
	}{
		{"referrers tag", e2e.RegistryOptions{}},
		{"referrers API", e2e.RegistryOptions{ReferrersAPI: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newCheckEnv(t, tt.registry)
			key := e2e.GenerateKeyPair(t)
			img := e2e.PushImage(t, env.addr+"/team/bundled:1")
			e2e.SignBundle(t, key, img.DigestRef())
			policy := env.policy(t, pluginRequirement(keyConfig(key, "digestOnly")))

			for _, yaml := range []string{
				"",
				"docker:\n  " + env.addr + ":\n    use-sigstore-attachments: false\n",
				"docker:\n  " + env.addr + "/team/other:\n    use-sigstore-attachments: true\n",
			} {
				off := *env
				off.registriesD = env.writeRegistriesD(t, yaml)
				r := off.check(t, policy, img.Ref, "json")
				r.want(t, ExitRejected, r.stdout, `"verdict": "rejected"`)
				if len(r.only(t).Signatures) != 0 || len(r.report.SignatureFormats) != 0 {
					t.Errorf("registries.d %q: signatures %+v in formats %q, want none looked for", yaml, r.only(t).Signatures, r.report.SignatureFormats)
				}
				text := off.check(t, policy, img.Ref, "text")
				text.want(t, ExitRejected, text.stdout, "signatures: 0 found (none looked for", "no signatures", "verdict: rejected")
			}

			r := env.check(t, policy, img.Ref, "json")
			r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
			if len(r.only(t).Signatures) != 1 || r.only(t).Signatures[0].Format != protocol.FormatSigstoreBundle {
				t.Errorf("signatures %+v, want the cosign bundle", r.only(t).Signatures)
			}
		})
	}
}

func TestCheckWithTheReferrersAPI(t *testing.T) {
	env := newCheckEnv(t, e2e.RegistryOptions{ReferrersAPI: true})
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, env.addr+"/team/bundled:1")
	e2e.SignBundle(t, key, img.DigestRef())
	if tags := e2e.Tags(t, img.Repository); len(tags) != 1 {
		t.Fatalf("tags %q: cosign wrote a referrers tag, so the API was not used", tags)
	}
	policy := env.policy(t, pluginRequirement(keyConfig(key, "digestOnly")))

	r := env.check(t, policy, img.Ref, "json")
	r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
	if len(r.only(t).Signatures) != 1 || r.only(t).Signatures[0].Format != protocol.FormatSigstoreBundle ||
		!strings.HasPrefix(r.only(t).Signatures[0].Source, "referrer sha256:") {
		t.Errorf("signatures %+v, want one bundle referrer", r.only(t).Signatures)
	}
}

// TestCheckLeavesOutBundlesPluginsWouldRefuse: referrers planted beside a
// good signature, a bundle nested too deep for a request (fine on its own)
// and one that is not JSON, are listed skipped; the plugin is sent the good
// one, and accepts, rather than refusing the whole request (or check
// failing to read the image).
func TestCheckLeavesOutBundlesPluginsWouldRefuse(t *testing.T) {
	env := newCheckEnv(t, e2e.RegistryOptions{ReferrersAPI: true})
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, env.addr+"/team/planted:1")
	e2e.SignBundle(t, key, img.DigestRef())
	const bundleType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	depth := strictjson.MaxDepth - 2 // the request holds a bundle three levels down
	planted := map[string]string{}   // referrer digest -> why it is left out
	for bundle, why := range map[string]string{
		strings.Repeat(`{"a":`, depth-1) + `{}` + strings.Repeat(`}`, depth-1): fmt.Sprintf(
			"not sent to plugins: bundle: refused in a verify request: signatures[0].bundle%s: JSON nested deeper than %d levels",
			strings.Repeat(".a", depth-1), strictjson.MaxDepth),
		`not JSON`: "not sent to plugins: bundle: malformed JSON",
	} {
		manifest, err := json.Marshal(map[string]any{
			"schemaVersion": 2, "mediaType": e2e.MediaTypeOCIManifest, "artifactType": bundleType,
			"config":  e2e.OCIDescriptor{MediaType: "application/vnd.oci.empty.v1+json", Digest: e2e.PutBlob(t, img.Repository, []byte("{}")), Size: 2},
			"layers":  []e2e.OCIDescriptor{{MediaType: bundleType, Digest: e2e.PutBlob(t, img.Repository, []byte(bundle)), Size: int64(len(bundle))}},
			"subject": e2e.OCIDescriptor{MediaType: img.MIMEType, Digest: img.Digest, Size: int64(len(img.Manifest))},
		})
		if err != nil {
			t.Fatal(err)
		}
		planted[e2e.PutManifest(t, img.Repository, e2e.Digest(manifest), e2e.MediaTypeOCIManifest, manifest)] = why
	}
	policy := env.policy(t, pluginRequirement(keyConfig(key, "digestOnly")))

	r := env.check(t, policy, img.Ref, "json")
	r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
	if len(r.only(t).Signatures) != 3 {
		t.Fatalf("signatures %+v, want cosign's bundle and the two planted", r.only(t).Signatures)
	}
	req := r.requirement(t, 0)
	for i, s := range r.only(t).Signatures {
		why, isPlanted := planted[strings.TrimPrefix(s.Source, "referrer ")]
		switch {
		case !isPlanted && (s.Skipped != "" || req.AcceptedSignature == nil || req.AcceptedSignature.Signature != i):
			t.Errorf("cosign's bundle is %+v, the accepted signature %+v; want it sent and accepted", s, req.AcceptedSignature)
		case isPlanted && (!strings.HasPrefix(s.Skipped, why) || req.Signatures[i].Reason != s.Skipped):
			t.Errorf("planted bundle %+v, its result %+v; want it left out: %q", s, req.Signatures[i], why)
		}
	}
}
