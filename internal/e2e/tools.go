package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// InstallHint is what a test failure says when a tool is missing.
const InstallHint = "run hack/install-deps.sh (as root) to install the test tools"

// SkipIfShort skips t under `go test -short`: everything that starts a
// registry or runs skopeo or cosign is slow, and `-short` promises fast.
// Without -short a missing tool FAILS the test; it is never skipped.
func SkipIfShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test (real registry, skopeo, cosign): skipped with -short")
	}
}

// toolVersions maps a tool name to its pinned version from hack/tools.env.
var toolVersions = sync.OnceValues(func() (map[string]string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	env, err := readToolsEnv(filepath.Join(root, "hack", "tools.env"))
	if err != nil {
		return nil, err
	}
	versions := map[string]string{}
	for tool, key := range map[string]string{
		"cosign":        "COSIGN_VERSION",
		"nfpm":          "NFPM_VERSION",
		"golangci-lint": "GOLANGCI_LINT_VERSION",
		"gofumpt":       "GOFUMPT_VERSION",
		"go-md2man":     "GO_MD2MAN_VERSION",
	} {
		if v := env[key]; v != "" {
			versions[tool] = v
		}
	}
	return versions, nil
})

// ModuleRoot finds the directory holding go.mod, from the working directory
// (a package directory under `go test`) upwards.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// readToolsEnv parses hack/tools.env: KEY=value lines, # comments.
func readToolsEnv(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || key == "" || strings.ContainsAny(line, " \t\"'") {
			return nil, fmt.Errorf("%s:%d: want KEY=value without quotes or spaces, got %q", path, n, line)
		}
		env[key] = value
	}
	return env, nil
}

// toolsDir is where hack/install-deps.sh puts the pinned Go tools.
func toolsDir() string {
	if d := os.Getenv("CPS_TOOLS"); d != "" {
		return d
	}
	// As hack/install-deps.sh: ${XDG_CACHE_HOME:-$HOME/.cache}/cps-tools.
	cache, err := os.UserCacheDir()
	if err != nil {
		return filepath.Join(os.Getenv("HOME"), ".cache", "cps-tools")
	}
	return filepath.Join(cache, "cps-tools")
}

// ToolPath returns the path of a test tool: from PATH first, then (for the Go
// tools pinned in hack/tools.env) from $CPS_TOOLS/<name>-<version>/<name>.
// A missing tool fails t with a message naming hack/install-deps.sh.
func ToolPath(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	var cached string
	versions, err := toolVersions()
	if err != nil {
		t.Fatalf("e2e: reading hack/tools.env: %v", err)
	}
	if v, ok := versions[name]; ok {
		cached = filepath.Join(toolsDir(), name+"-"+v, name)
		if fi, err := os.Stat(cached); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return cached
		}
		t.Fatalf("e2e: %s not found on PATH nor at %s; %s", name, cached, InstallHint)
	}
	t.Fatalf("e2e: %s not found on PATH; %s", name, InstallHint)
	return ""
}

// run runs a tool and returns its standard output; a non-zero exit fails t
// with the command line and both output streams.
func run(t testing.TB, env []string, bin string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	if err != nil {
		t.Fatalf("e2e: %s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(bin), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	t.Logf("e2e: %s %s (%s)", filepath.Base(bin), strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	return stdout.String()
}

// isolatedEnv is the environment tools run with: the caller's, minus
// configuration that could leak in from the host, plus a private HOME.
func isolatedEnv(t testing.TB) []string {
	t.Helper()
	home := t.TempDir()
	env := []string{"HOME=" + home, "TMPDIR=" + home}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "HOME", k == "TMPDIR", k == "DOCKER_CONFIG", k == "REGISTRY_AUTH_FILE",
			k == "XDG_RUNTIME_DIR", k == "XDG_CONFIG_HOME", k == "TUF_ROOT",
			strings.HasPrefix(k, "COSIGN_"), strings.HasPrefix(k, "SIGSTORE_"),
			strings.HasPrefix(k, "CONTAINERS_"), strings.HasPrefix(k, "REGISTRY_"):
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Skopeo runs skopeo with args and returns its standard output. It runs with
// a private HOME and an empty registries.conf (CONTAINERS_REGISTRIES_CONF), so
// the host's configuration does not leak in; pass --insecure-policy or
// --policy yourself. A failure or a missing skopeo fails t.
func Skopeo(t testing.TB, args ...string) string {
	t.Helper()
	bin := ToolPath(t, "skopeo")
	env := isolatedEnv(t)
	conf := filepath.Join(t.TempDir(), "registries.conf")
	if err := os.WriteFile(conf, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env = append(env, "CONTAINERS_REGISTRIES_CONF="+conf)
	return run(t, env, bin, args...)
}

// Cosign runs cosign with args and returns its standard output. It runs with
// a private HOME and TUF_ROOT, and COSIGN_PASSWORD=KeyPassword (the password
// of GenerateKeyPair's keys). A failure or a missing cosign fails t.
func Cosign(t testing.TB, args ...string) string {
	t.Helper()
	bin := ToolPath(t, "cosign")
	env := isolatedEnv(t)
	env = append(env, "COSIGN_PASSWORD="+KeyPassword, "TUF_ROOT="+t.TempDir())
	return run(t, env, bin, args...)
}
