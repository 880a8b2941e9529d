package cli

import (
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/check"
	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/protocol"
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
		if len(r.report.Signatures) != 1 || r.report.Signatures[0].Format != protocol.FormatSigstoreJSON ||
			r.report.Signatures[0].Source != e2e.SigTag(img.Digest)+" layer 0" {
			t.Errorf("signatures %+v, want the one cosign attachment", r.report.Signatures)
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
	})

	t.Run("a cosign key signature in the v3 bundle format, found through the referrers tag", func(t *testing.T) {
		img := e2e.PushImage(t, env.addr+"/team/bundled:1")
		e2e.SignBundle(t, key, img.DigestRef())
		policy := env.policy(t, pluginRequirement(keyConfig(key, "digestOnly")))

		r := env.check(t, policy, img.Ref, "json")
		r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
		if len(r.report.Signatures) != 1 || r.report.Signatures[0].Format != protocol.FormatSigstoreBundle {
			t.Errorf("signatures %+v, want one sigstore-bundle", r.report.Signatures)
		}
	})

	t.Run("a multi-platform image signed at the index", func(t *testing.T) {
		img := e2e.PushIndex(t, env.addr+"/team/multi:1")
		e2e.SignLegacy(t, key, img.DigestRef())
		policy := env.policy(t, pluginRequirement(keyConfig(key, "matchRepository")))

		r := env.check(t, policy, img.Ref, "json")
		r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
		m := r.report.Manifest
		if m.Digest != img.Digest || m.Kind != "index" || m.MediaType != e2e.MediaTypeOCIIndex || len(m.Instances) != 2 ||
			m.Instances[0].Platform != "linux/amd64" || m.Instances[1].Platform != "linux/arm64/v8" {
			t.Errorf("manifest %+v, want the index %s with its 2 instances", m, img.Digest)
		}
		text := env.check(t, policy, img.Ref, "text")
		text.want(t, ExitOK, text.stdout, img.Digest+" ("+e2e.MediaTypeOCIIndex+")",
			"an index of 2 instances; the policy is evaluated on the index",
			img.Instances[1].Digest+" linux/arm64/v8")
	})
}
