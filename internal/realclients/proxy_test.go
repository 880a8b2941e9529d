package realclients

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/internal/imageproxy"
	"github.com/policy-plugins/sigstore/internal/upstreamclients"
)

// proxyTimeout bounds one OpenImage and the calls after it: far above the
// host's 30 s plugin deadline, so that a hanging plugin is the host's to stop.
const proxyTimeout = 3 * time.Minute

// proxyOpen is what bootc does to pull ref through the image proxy (the
// skopeo binary bin, patched or pristine): Initialize (where the proxy loads
// policy.json), OpenImage (where it evaluates it), GetManifest, CloseImage.
// An error reply to Initialize or OpenImage is a refusal; any other failure
// fails t.
func proxyOpen(t *testing.T, s *setting, bin, policy, ref string) outcome {
	t.Helper()
	p, err := upstreamclients.ImageProxy(t, bin, policy, s.registriesD, s.env())
	var remote *imageproxy.RemoteError
	if errors.As(err, &remote) {
		return outcome{message: err.Error()}
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), proxyTimeout)
	defer cancel()
	start := time.Now()
	id, err := p.OpenImage(ctx, "docker://"+ref)
	t.Logf("image proxy: OpenImage docker://%s: %v (%s)", ref, err, time.Since(start).Round(time.Millisecond))
	if errors.As(err, &remote) {
		return outcome{message: err.Error()}
	}
	if err != nil {
		t.Fatalf("OpenImage: %v; stderr: %s", err, p.Stderr())
	}
	digest, _, err := p.GetManifest(ctx, id)
	if err != nil {
		t.Fatalf("GetManifest: %v; stderr: %s", err, p.Stderr())
	}
	if err := p.CloseImage(ctx, id); err != nil {
		t.Fatalf("CloseImage: %v; stderr: %s", err, p.Stderr())
	}
	return outcome{accepted: true, digest: digest}
}

// TestImageProxyEvaluatesBothLevels: for a list, OpenImage evaluates the
// policy for the list itself and then for the instance it chooses, and
// refuses only when both are refused: two verify runs, whatever the verdict.
func TestImageProxyEvaluatesBothLevels(t *testing.T) {
	s := newSetting(t, e2e.RegistryOptions{})
	log := e2e.CountingPlugin(t, s.plugins, "sigstore", upstreamclients.PluginBinary(t))
	key := e2e.GenerateKeyPair(t)
	policy := s.policy(t, e2e.PluginRequirement("sigstore", e2e.KeyConfig(key, "matchRepository")))
	native := func(img e2e.Image) e2e.Instance {
		for _, inst := range img.Instances {
			if inst.Platform == e2e.NativePlatform() {
				return inst
			}
		}
		t.Fatalf("%s has no instance for %+v", img.Ref, e2e.NativePlatform())
		return e2e.Instance{}
	}

	instanceSigned := e2e.PushIndex(t, s.addr+"/team/instance-signed:1")
	e2e.SignLegacy(t, key, instanceSigned.Repository+"@"+native(instanceSigned).Digest)
	proxyOpen(t, s, upstreamclients.Skopeo, policy, instanceSigned.Ref).wantAccepted(t, native(instanceSigned).Manifest)
	if got := e2e.Invocations(t, log); !slices.Equal(got, []string{"verify", "verify"}) {
		t.Errorf("the list refused, its instance accepted: the plugin ran for %q, want the list's verify and the instance's", got)
	}

	unsigned := e2e.PushIndex(t, s.addr+"/team/unsigned:1")
	// The proxy reports the instance's refusal, which names the list too.
	proxyOpen(t, s, upstreamclients.Skopeo, policy, unsigned.Ref).wantRefused(t, pluginRejected,
		"no signatures: neither the image nor its index "+unsigned.Digest+" is signed")
	if got := e2e.Invocations(t, log); !slices.Equal(got, []string{"verify", "verify"}) {
		t.Errorf("both refused: the plugin ran for %q, want the list's verify and the instance's", got)
	}
}
