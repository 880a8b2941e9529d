package upstreamcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/e2e"
)

// pluginDirsEnv is where the patched containers/image looks for plugins
// before /usr/lib/containers/policy-plugins.d.
const pluginDirsEnv = "CONTAINERS_POLICY_PLUGINS_DIR"

// Exit statuses of upstream-e2e (upstream/containers-image/e2e/main.go).
const (
	exitAccepted = 0
	exitRejected = 1 // a signature.PolicyRequirementError
	exitError    = 3 // any other error: also a refusal
)

// setting is one end-to-end setting: a real registry on loopback, the host
// configuration skopeo or bootc would read (registries.d turning on cosign
// attachments for the registry, registries.conf marking it insecure, no
// credentials), and a plugin directory holding this repository's plugin.
type setting struct {
	addr        string // 127.0.0.1:PORT
	registriesD string
	config      []string // the other host flags of upstream-e2e
	plugins     string   // the plugin directory
}

func newSetting(t testing.TB, opts e2e.RegistryOptions) *setting {
	t.Helper()
	e2e.SkipIfShort(t)
	s := &setting{addr: e2e.StartRegistry(t, opts)}
	s.plugins = t.TempDir()
	installPlugin(t, s.plugins, "sigstore", plugin(t))
	s.registriesD = writeDir(t, "test.yaml", "docker:\n  "+s.addr+":\n    use-sigstore-attachments: true\n")
	s.config = []string{
		"-registries-conf", writeFile(t, "registries.conf", "[[registry]]\nlocation = \""+s.addr+"\"\ninsecure = true\n"),
		"-registries-conf-dir", t.TempDir(),
		"-authfile", writeFile(t, "auth.json", "{}"),
	}
	return s
}

// The plugin and policy helpers this suite shares with internal/realclients.
var (
	installPlugin     = e2e.InstallPlugin
	pluginRequirement = e2e.PluginRequirement
	keyConfig         = e2e.KeyConfig
	sigstoreSigned    = e2e.SigstoreSigned
	gitlabConfig      = e2e.GitLabConfig
)

func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeDir makes a directory holding one file.
func writeDir(t testing.TB, name, content string) string {
	t.Helper()
	return filepath.Dir(writeFile(t, name, content))
}

// policy writes a policy.json whose scope for the registry's team/ namespace
// holds requirements (JSON, comma-separated), with a default that rejects.
func (s *setting) policy(t testing.TB, requirements ...string) string {
	t.Helper()
	scope, err := json.Marshal(s.addr + "/team")
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "policy.json", fmt.Sprintf(`{"default": [{"type": "reject"}],
 "transports": {"docker": {%s: [%s]}}}`, scope, strings.Join(requirements, ", ")))
}

// result is one run of upstream-e2e.
type result struct {
	status         int
	stdout, stderr string
	layout         string // the OCI layout directory of a copy
}

// run runs prog with args in an environment holding only PATH, a private
// HOME and TMPDIR, and the plugin directory.
func (s *setting) run(t testing.TB, prog program, args ...string) result {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(string(prog), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + home, pluginDirsEnv + "=" + s.plugins}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.Exited():
		r.status = exit.ExitCode()
	default:
		t.Fatalf("%s %q: %v\n%s", filepath.Base(string(prog)), args, err, r.stderr)
	}
	t.Logf("%s %s: exit %d (%s)\nstdout: %s\nstderr: %s", filepath.Base(string(prog)), strings.Join(args, " "),
		r.status, time.Since(start).Round(time.Millisecond), r.stdout, r.stderr)
	return r
}

// copyToOCI is `skopeo copy --policy POLICY docker://IMAGE oci:DIR:latest`
// (with --remove-signatures: an OCI layout cannot store them).
func (s *setting) copyToOCI(t testing.TB, prog program, policy, image string, extra ...string) result {
	t.Helper()
	layout := filepath.Join(t.TempDir(), "oci")
	args := append([]string{"copy", "-policy", policy, "-remove-signatures", "-registries.d", s.registriesD}, s.config...)
	args = append(args, extra...)
	r := s.run(t, prog, append(args, "docker://"+image, "oci:"+layout+":latest")...)
	r.layout = layout
	return r
}

// allowed is bootc's image proxy opening docker://IMAGE under policy.
func (s *setting) allowed(t testing.TB, prog program, policy, image string, extra ...string) result {
	t.Helper()
	args := append([]string{"allowed", "-policy", policy, "-registries.d", s.registriesD}, s.config...)
	args = append(args, extra...)
	return s.run(t, prog, append(args, "docker://"+image)...)
}

// program is a built upstream-e2e.
type program string

// want asserts the exit status and that stderr says every fragment.
func (r result) want(t testing.TB, status int, fragments ...string) {
	t.Helper()
	if r.status != status {
		t.Errorf("exit status %d, want %d; stderr: %s", r.status, status, r.stderr)
	}
	for _, f := range fragments {
		if !strings.Contains(r.stderr, f) {
			t.Errorf("stderr does not say %q:\n%s", f, r.stderr)
		}
	}
}

// wantLayout asserts that the copy landed img in the OCI layout: index.json
// names its manifest digest, and the manifest, config and layer blobs are
// there with the right digests.
func (r result) wantLayout(t testing.TB, img e2e.Image) {
	t.Helper()
	if r.status != exitAccepted {
		t.Fatalf("exit status %d, want %d (accepted); stderr: %s", r.status, exitAccepted, r.stderr)
	}
	if !strings.Contains(r.stdout, "copied "+img.Digest) {
		t.Errorf("stdout %q, want copied %s", r.stdout, img.Digest)
	}
	var index struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	data, err := os.ReadFile(filepath.Join(r.layout, "index.json"))
	if err != nil {
		t.Fatalf("the image did not land in the OCI layout: %v", err)
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatalf("index.json: %v", err)
	}
	if len(index.Manifests) != 1 || index.Manifests[0].Digest != img.Digest ||
		index.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "latest" {
		t.Fatalf("index.json %s, want %s tagged latest", data, img.Digest)
	}
	manifest := blob(t, r.layout, img.Digest)
	if !bytes.Equal(manifest, img.Manifest) {
		t.Errorf("manifest blob differs from the pushed manifest")
	}
	m := e2e.ParseManifest(t, manifest)
	blob(t, r.layout, m.Config.Digest)
	for _, l := range m.Layers {
		blob(t, r.layout, l.Digest)
	}
}

// wantNoLayout asserts that nothing was copied: opening the destination may
// create the layout's directories, but no blob and no index entry.
func (r result) wantNoLayout(t testing.TB) {
	t.Helper()
	blobs, err := os.ReadDir(filepath.Join(r.layout, "blobs", "sha256"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if len(blobs) != 0 {
		t.Errorf("a refused copy wrote %d blobs into the OCI layout", len(blobs))
	}
	index, err := os.ReadFile(filepath.Join(r.layout, "index.json"))
	if err == nil && bytes.Contains(index, []byte("sha256:")) {
		t.Errorf("a refused copy wrote an index entry: %s", index)
	}
}

// blob reads a blob of an OCI layout and checks its digest.
var blob = e2e.OCILayoutBlob
