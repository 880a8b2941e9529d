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

// exitOK is upstream-e2e's exit status when every copy succeeded
// (upstream/containers-image/e2e/main.go).
const exitOK = 0

// setting is the benchmark's setting: a real registry on loopback, the host
// configuration skopeo would read (registries.d turning on cosign
// attachments for the registry, registries.conf marking it insecure, no
// credentials), and a plugin directory holding this repository's plugin.
type setting struct {
	addr        string // 127.0.0.1:PORT
	registriesD string
	config      []string // the other host flags of upstream-e2e
	plugins     string   // the plugin directory
}

func newSetting(t testing.TB) *setting {
	t.Helper()
	e2e.SkipIfShort(t)
	s := &setting{addr: e2e.StartRegistry(t, e2e.RegistryOptions{})}
	s.plugins = t.TempDir()
	e2e.InstallPlugin(t, s.plugins, "sigstore", plugin(t))
	s.registriesD = writeDir(t, "test.yaml", "docker:\n  "+s.addr+":\n    use-sigstore-attachments: true\n")
	s.config = []string{
		"-registries-conf", writeFile(t, "registries.conf", "[[registry]]\nlocation = \""+s.addr+"\"\ninsecure = true\n"),
		"-registries-conf-dir", t.TempDir(),
		"-authfile", writeFile(t, "auth.json", "{}"),
	}
	return s
}

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

// program is a built upstream-e2e.
type program string
