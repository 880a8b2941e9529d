package upstreamclients_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/internal/upstreamclients"
)

func TestMain(m *testing.M) {
	code := m.Run()
	upstreamclients.Cleanup()
	os.Exit(code)
}

// setting is a real registry on loopback, a registries.d turning on cosign
// attachments for it, and this repository's plugin in the plugin directory.
type setting struct {
	addr        string
	registriesD string
}

func newSetting(t *testing.T) setting {
	t.Helper()
	e2e.SkipIfShort(t)
	s := setting{addr: e2e.StartRegistry(t, e2e.RegistryOptions{})}
	s.registriesD = t.TempDir()
	write(t, s.registriesD, "test.yaml", "docker:\n  "+s.addr+":\n    use-sigstore-attachments: true\n")
	t.Setenv(upstreamclients.PluginDirsEnv, upstreamclients.PluginsDir(t))
	return s
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// policy is a policy.json whose scope for the registry's team/ namespace
// holds requirement, with a default that rejects.
func (s setting) policy(t *testing.T, requirement string) string {
	t.Helper()
	return write(t, t.TempDir(), "policy.json", fmt.Sprintf(`{"default": [{"type": "reject"}],
 "transports": {"docker": {%q: [%s]}}}`, s.addr+"/team", requirement))
}

func pluginKeyRequirement(key e2e.KeyPair) string {
	return fmt.Sprintf(`{"type": "plugin", "plugin": %q, "config": {"keyPath": %q, "signedIdentity": {"type": "matchRepository"}}}`,
		upstreamclients.PluginName, key.PublicKey)
}

func sigstoreSignedRequirement(key e2e.KeyPair) string {
	return fmt.Sprintf(`{"type": "sigstoreSigned", "keyPath": %q, "signedIdentity": {"type": "matchRepository"}}`, key.PublicKey)
}

// imageID is the ID podman prints for a pulled image: its config digest's hex.
func imageID(t *testing.T, img e2e.Image) string {
	t.Helper()
	return strings.TrimPrefix(e2e.ParseManifest(t, img.Manifest).Config.Digest, "sha256:")
}

const (
	pluginRejected = `Policy plugin "sigstore" rejected the image: `
	unsigned       = "no signatures: the image is not signed"
	unknownPlugin  = `Unknown policy requirement type "plugin"`
)

func wantRefused(t *testing.T, stderr string, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the client accepted; want a refusal saying %q", fragments)
	}
	msgs := upstreamclients.Messages(stderr)
	for _, f := range fragments {
		if !strings.Contains(msgs, f) {
			t.Errorf("stderr does not say %q:\n%s", f, stderr)
		}
	}
}

// TestPodmanPullsSignedImage: real podman pulls a cosign-signed image under a
// plugin policy, so it found the plugin through CONTAINERS_POLICY_PLUGINS_DIR
// and the signatures through the run's registries.d, and with an empty
// registries.d it finds none and the plugin says so.
func TestPodmanPullsSignedImage(t *testing.T) {
	s := newSetting(t)
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, s.addr+"/team/app:1")
	e2e.SignLegacy(t, key, img.DigestRef())
	policy := s.policy(t, pluginKeyRequirement(key))

	stdout, stderr, err := upstreamclients.PodmanPull(t, policy, s.registriesD, img.Ref)
	if err != nil {
		t.Fatalf("podman pull: %v\n%s", err, stderr)
	}
	if got, want := strings.TrimSpace(stdout), imageID(t, img); got != want {
		t.Errorf("podman pull printed %q, want the image ID %q", got, want)
	}

	_, stderr, err = upstreamclients.PodmanPull(t, policy, t.TempDir(), img.Ref)
	wantRefused(t, stderr, err, pluginRejected, unsigned)
}

func TestPodmanRefusesUnsignedImage(t *testing.T) {
	s := newSetting(t)
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, s.addr+"/team/unsigned:1")

	_, stderr, err := upstreamclients.PodmanPull(t, s.policy(t, pluginKeyRequirement(key)), s.registriesD, img.Ref)
	wantRefused(t, stderr, err, "Source image rejected: ", pluginRejected, unsigned)
}

// copyToOCI copies image into a new OCI layout and returns the layout; an OCI
// layout cannot store signatures, hence --remove-signatures.
func copyToOCI(t *testing.T, copyFn func(testing.TB, string, string, string, string, ...upstreamclients.Option) (string, string, error),
	policy, registriesD, image string,
) (layout, stderr string, err error) {
	t.Helper()
	layout = filepath.Join(t.TempDir(), "oci")
	_, stderr, err = copyFn(t, policy, registriesD, "docker://"+image, "oci:"+layout+":latest",
		upstreamclients.Args("--remove-signatures"))
	return layout, stderr, err
}

// wantLayout asserts that the layout's index.json names img's manifest.
func wantLayout(t *testing.T, layout string, img e2e.Image) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil {
		t.Fatalf("the image did not land in the OCI layout: %v", err)
	}
	var index struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatal(err)
	}
	if len(index.Manifests) != 1 || index.Manifests[0].Digest != img.Digest {
		t.Errorf("index.json %s, want one manifest %s", data, img.Digest)
	}
}

// wantNoBlobs asserts that a refused copy wrote nothing into the layout.
func wantNoBlobs(t *testing.T, layout string) {
	t.Helper()
	blobs, err := os.ReadDir(filepath.Join(layout, "blobs", "sha256"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(blobs) != 0 {
		t.Errorf("a refused copy wrote %d blobs", len(blobs))
	}
}

func TestSkopeoCopiesSignedImage(t *testing.T) {
	s := newSetting(t)
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, s.addr+"/team/app:1")
	e2e.SignLegacy(t, key, img.DigestRef())

	layout, stderr, err := copyToOCI(t, upstreamclients.SkopeoCopy, s.policy(t, pluginKeyRequirement(key)), s.registriesD, img.Ref)
	if err != nil {
		t.Fatalf("skopeo copy: %v\n%s", err, stderr)
	}
	wantLayout(t, layout, img)
}

func TestSkopeoRefusesUnsignedImage(t *testing.T) {
	s := newSetting(t)
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, s.addr+"/team/unsigned:1")

	layout, stderr, err := copyToOCI(t, upstreamclients.SkopeoCopy, s.policy(t, pluginKeyRequirement(key)), s.registriesD, img.Ref)
	wantRefused(t, stderr, err, "Source image rejected: ", pluginRejected, unsigned)
	wantNoBlobs(t, layout)
}

// TestPristineSkopeoRefusesPluginPolicy is why the series is needed: skopeo
// with containers/image as released refuses the policy as a whole, for a
// properly signed image with the plugin installed, and copies the same image
// under the built-in requirement for the same key.
func TestPristineSkopeoRefusesPluginPolicy(t *testing.T) {
	s := newSetting(t)
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, s.addr+"/team/app:1")
	e2e.SignLegacy(t, key, img.DigestRef())

	layout, stderr, err := copyToOCI(t, upstreamclients.PristineSkopeoCopy, s.policy(t, pluginKeyRequirement(key)), s.registriesD, img.Ref)
	wantRefused(t, stderr, err, unknownPlugin)
	wantNoBlobs(t, layout)

	layout, stderr, err = copyToOCI(t, upstreamclients.PristineSkopeoCopy, s.policy(t, sigstoreSignedRequirement(key)), s.registriesD, img.Ref)
	if err != nil {
		t.Fatalf("pristine skopeo copy under sigstoreSigned: %v\n%s", err, stderr)
	}
	wantLayout(t, layout, img)
}

// recorder is a testing.TB that records Fatalf and Skipf instead of stopping.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	if r.fatal == "" && r.skip == "" {
		r.fatal = fmt.Sprintf(format, args...)
	}
}

func (r *recorder) Skipf(format string, args ...any) {
	if r.fatal == "" && r.skip == "" {
		r.skip = fmt.Sprintf(format, args...)
	}
}

func TestMessagesUnquotesLogrusLines(t *testing.T) {
	stderr := `time="2026-12-08T00:06:37Z" level=fatal msg="Source image rejected: Policy plugin \"sigstore\" rejected the image: a\tb"` + "\nError: as is \"quoted\"\n"
	want := "Source image rejected: Policy plugin \"sigstore\" rejected the image: a\tb\nError: as is \"quoted\"\n"
	if got := upstreamclients.Messages(stderr); got != want {
		t.Errorf("Messages = %q, want %q", got, want)
	}
}

// TestMissingBinaryNamesMakeTarget: without the binaries a run fails (skips
// under -short) naming the make target that builds them.
func TestMissingBinaryNamesMakeTarget(t *testing.T) {
	t.Setenv("UPSTREAM_CLIENTS_OUT", t.TempDir())
	r := &recorder{TB: t}
	if got := upstreamclients.Binary(r, upstreamclients.Podman); got != "" {
		t.Errorf("Binary = %q for a missing podman", got)
	}
	msg := r.fatal
	if testing.Short() {
		msg = r.skip
	}
	if !strings.Contains(msg, "make upstream-clients") || !strings.Contains(msg, "podman") {
		t.Errorf("message %q (fatal %q, skip %q) does not name podman and make upstream-clients", msg, r.fatal, r.skip)
	}
}
