package imageproxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/internal/imageproxy"
)

// The client against a real skopeo as released (no plugin support needed:
// these are the protocol's own behaviours), on a real registry.

const (
	acceptAnything = `{"default": [{"type": "insecureAcceptAnything"}]}`
	rejectAll      = `{"default": [{"type": "reject"}]}`
)

// start runs the proxy under policy, with a private HOME, an empty
// registries.conf and plain HTTP to the loopback registry.
func start(t *testing.T, policy string, extra ...string) *imageproxy.Client {
	t.Helper()
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "policy.json")
	conf := filepath.Join(dir, "registries.conf")
	if err := os.WriteFile(policyFile, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--policy", policyFile, "--tls-verify=false", "--override-arch", "amd64", "--override-os", "linux"}, extra...)
	cmd := imageproxy.Command(skopeo(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir, "CONTAINERS_REGISTRIES_CONF=" + conf}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := imageproxy.Start(ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v; stderr: %s", err, c.Stderr())
		}
	})
	if !strings.HasPrefix(c.Version, imageproxy.ProtocolMajor) {
		t.Errorf("protocol version %q", c.Version)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestOpenImageGetManifestCloseImage(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	img := e2e.PushImage(t, addr+"/team/app:1")
	c := start(t, acceptAnything)

	for _, ref := range []string{img.Ref, img.DigestRef()} {
		id, err := c.OpenImage(ctx(t), "docker://"+ref)
		if err != nil {
			t.Fatalf("OpenImage %s: %v; stderr: %s", ref, err, c.Stderr())
		}
		if id == 0 {
			t.Fatalf("OpenImage %s: image id 0", ref)
		}
		digest, manifest, err := c.GetManifest(ctx(t), id)
		if err != nil {
			t.Fatalf("GetManifest: %v", err)
		}
		if digest != img.Digest || string(manifest) != string(img.Manifest) {
			t.Errorf("GetManifest = %s, %s; want %s, %s", digest, manifest, img.Digest, img.Manifest)
		}
		config, err := c.GetFullConfig(ctx(t), id)
		if err != nil {
			t.Fatalf("GetFullConfig: %v", err)
		}
		var parsed struct {
			Architecture string `json:"architecture"`
			OS           string `json:"os"`
		}
		if err := json.Unmarshal(config, &parsed); err != nil || parsed.OS != "linux" || parsed.Architecture != "amd64" {
			t.Errorf("GetFullConfig = %s (%v), want a linux/amd64 config", config, err)
		}
		if err := c.CloseImage(ctx(t), id); err != nil {
			t.Fatalf("CloseImage: %v", err)
		}
		// Closed means gone: the proxy answers with an error reply.
		_, _, err = c.GetManifest(ctx(t), id)
		wantRemoteError(t, err, "GetManifest", "no image")
	}
}

func TestGetManifestOfIndexIsTheChosenInstance(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	img := e2e.PushIndex(t, addr+"/team/multi:1")
	c := start(t, acceptAnything)

	id, err := c.OpenImage(ctx(t), "docker://"+img.Ref)
	if err != nil {
		t.Fatalf("OpenImage: %v; stderr: %s", err, c.Stderr())
	}
	digest, manifest, err := c.GetManifest(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	// The amd64 instance (--override-arch amd64): its bytes and its digest,
	// not the index's.
	if digest != img.Instances[0].Digest {
		t.Errorf("digest %s, want the amd64 instance's %s (the index is %s)", digest, img.Instances[0].Digest, img.Digest)
	}
	if img.Instances[0].Platform.Architecture != "amd64" || string(manifest) != string(img.Instances[0].Manifest) {
		t.Errorf("manifest %s, want the amd64 instance %s", manifest, img.Instances[0].Manifest)
	}
}

func TestOpenImageRefusedByPolicy(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	img := e2e.PushImage(t, addr+"/team/app:1")
	c := start(t, rejectAll)

	id, err := c.OpenImage(ctx(t), "docker://"+img.Ref)
	wantRemoteError(t, err, "OpenImage", "Running image docker://"+img.Ref+" is rejected by policy.")
	if id != 0 {
		t.Errorf("refused OpenImage returned image id %d", id)
	}
	// A refusal is an answer, not the end of the session.
	if _, err := c.OpenImage(ctx(t), "docker://"+img.DigestRef()); err == nil {
		t.Error("OpenImage by digest accepted under a reject policy")
	}
}

func TestOpenImageOptionalOfMissingImage(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	e2e.PushImage(t, addr+"/team/app:1")
	c := start(t, acceptAnything)

	id, err := c.OpenImageOptional(ctx(t), "docker://"+addr+"/team/app:nosuch")
	if err != nil || id != 0 {
		t.Errorf("OpenImageOptional of a missing tag = %d, %v; want 0, nil", id, err)
	}
	_, err = c.OpenImage(ctx(t), "docker://"+addr+"/team/app:nosuch")
	wantRemoteError(t, err, "OpenImage", "manifest unknown")
}

// A process that is not a proxy: Start fails, saying it exited.
func TestStartOfProcessThatExits(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sh, "-c", "echo 'not a proxy' >&2; exit 7")
	_, err = imageproxy.Start(ctx(t), cmd)
	if err == nil || !strings.Contains(err.Error(), "the proxy exited (exit status 7): not a proxy") {
		t.Errorf("Start = %v, want the exit and the stderr", err)
	}
}

// A proxy that never answers: the context bounds the call.
func TestStartOfProcessThatNeverAnswers(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sh, "-c", "exec sleep 60")
	c, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err = imageproxy.Start(c, cmd)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Start = %v, want the context's deadline", err)
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("Start returned after %s", took)
	}
}

func wantRemoteError(t *testing.T, err error, method, fragment string) {
	t.Helper()
	var remote *imageproxy.RemoteError
	if !errors.As(err, &remote) {
		t.Fatalf("%s: error %v (%T), want a *RemoteError", method, err, err)
	}
	if remote.Method != method || !strings.Contains(remote.Message, fragment) {
		t.Errorf("%s: %v, want %s saying %q", method, err, method, fragment)
	}
	if remote.Code != "other" {
		t.Errorf("%s: error_code %q, want other", method, remote.Code)
	}
}
