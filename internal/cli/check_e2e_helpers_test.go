package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/check"
	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

// checkEnv is one end-to-end setting: a real registry on loopback, the
// sigstore plugin installed in a plugin directory, a registries.d that turns
// on cosign attachments for the registry, and no host configuration.
type checkEnv struct {
	addr        string // 127.0.0.1:PORT
	registriesD string
	// tlsFromRegistriesConf leaves --tls-verify out, so that registries.conf
	// decides, as for podman without the flag.
	tlsFromRegistriesConf bool
}

func newCheckEnv(t *testing.T, opts e2e.RegistryOptions) *checkEnv {
	t.Helper()
	e2e.SkipIfShort(t)
	env := &checkEnv{addr: e2e.StartRegistry(t, opts)}
	plugins, err := installPlugin(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(protocol.PluginDirsEnv, plugins)
	// containers/image reads these when the command names no file: keep the
	// machine's registries.conf and credentials out.
	t.Setenv("CONTAINERS_REGISTRIES_CONF", writeFile(t, "registries.conf", ""))
	t.Setenv("REGISTRY_AUTH_FILE", writeFile(t, "auth.json", "{}"))
	env.registriesD = env.writeRegistriesD(t, "docker:\n  "+env.addr+":\n    use-sigstore-attachments: true\n")
	return env
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeRegistriesD makes a registries.d directory holding yaml.
func (env *checkEnv) writeRegistriesD(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "test.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// policy writes a policy.json whose scope for the registry's team/ namespace
// holds requirements (JSON, comma-separated), with a default that rejects.
func (env *checkEnv) policy(t *testing.T, requirements string) string {
	t.Helper()
	return scopePolicy(t, env.addr+"/team", requirements)
}

// scopePolicy writes a policy.json whose scope for namespace holds
// requirements, with a default that rejects.
func scopePolicy(t *testing.T, namespace, requirements string) string {
	t.Helper()
	scope, err := json.Marshal(namespace)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "policy.json", fmt.Sprintf(`{"default": [{"type": "reject"}],
 "transports": {"docker": {%s: [%s]}}}`, scope, requirements))
}

// pluginRequirement is a sigstore plugin requirement with config.
func pluginRequirement(config string) string {
	return `{"type": "plugin", "plugin": "sigstore", "config": ` + config + `}`
}

// checkResult is one run of the check command.
type checkResult struct {
	status         int
	stdout, stderr string
	report         check.Report // decoded from stdout for --output json
}

// check runs `check --output FORMAT --tls-verify=false --registries.d ...
// --policy POLICY IMAGE` in-process (without --tls-verify when
// tlsFromRegistriesConf); the plugin runs as a real process
// through the host package.
func (env *checkEnv) check(t *testing.T, policyPath, image, format string, extra ...string) checkResult {
	t.Helper()
	args := []string{"check", "--policy", policyPath, "--registries.d", env.registriesD, "--output", format}
	if !env.tlsFromRegistriesConf {
		args = append(args, "--tls-verify=false")
	}
	args = append(args, extra...)
	args = append(args, image)
	var stdout, stderr bytes.Buffer
	r := checkResult{status: Run(args, strings.NewReader(""), &stdout, &stderr)}
	r.stdout, r.stderr = stdout.String(), stderr.String()
	if format == "json" && r.status != ExitUsage {
		if err := json.Unmarshal(stdout.Bytes(), &r.report); err != nil {
			t.Fatalf("check --output json: stdout is not a report: %v\n%s", err, r.stdout)
		}
	}
	t.Logf("check %s: exit %d\nstdout:\n%s\nstderr:\n%s", image, r.status, r.stdout, r.stderr)
	return r
}

// want asserts the exit status and that every fragment appears in the text.
func (r checkResult) want(t *testing.T, status int, text string, fragments ...string) {
	t.Helper()
	if r.status != status {
		t.Errorf("exit status %d, want %d", r.status, status)
	}
	for _, f := range fragments {
		if !strings.Contains(text, f) {
			t.Errorf("output does not say %q:\n%s", f, text)
		}
	}
}

// gitlabLegacy makes a keyless signature of img by the fixture's GitLab CI
// identity and attaches it in cosign's legacy layout (e2e.AttachGitLabKeyless).
func gitlabLegacy(t *testing.T, img e2e.Image) *fixture.Instance {
	t.Helper()
	return e2e.AttachGitLabKeyless(t, img)
}

const gitlabSubject = e2e.GitLabSubject

// gitlabConfig is a plugin config trusting in's Sigstore instance (its
// trusted_root.json) for one GitLab CI identity.
func gitlabConfig(t *testing.T, in *fixture.Instance, subjectURI string) string {
	t.Helper()
	trustedRoot, err := in.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "trusted_root.json", string(trustedRoot))
	return fmt.Sprintf(`{"trustedRootPath": %q,
  "identities": [{"issuer": "https://gitlab.com", "subjectURI": %q}],
  "signedIdentity": {"type": "matchRepository"}}`, path, subjectURI)
}

// keyConfig trusts a cosign public key.
func keyConfig(key e2e.KeyPair, signedIdentity string) string {
	return fmt.Sprintf(`{"keyPath": %q, "signedIdentity": {"type": %q}}`, key.PublicKey, signedIdentity)
}

func (r checkResult) requirement(t *testing.T, i int) check.Requirement {
	t.Helper()
	reqs := r.only(t).Requirements
	if i >= len(reqs) {
		t.Fatalf("report has %d requirements, want at least %d", len(reqs), i+1)
	}
	return reqs[i]
}

// only is the one image the report evaluated.
func (r checkResult) only(t *testing.T) check.Evaluated {
	t.Helper()
	if len(r.report.Images) != 1 {
		t.Fatalf("report evaluated %d images, want 1", len(r.report.Images))
	}
	return r.report.Images[0]
}
