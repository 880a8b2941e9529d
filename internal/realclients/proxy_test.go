package realclients

import (
	"context"
	"errors"
	"testing"
	"time"

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
