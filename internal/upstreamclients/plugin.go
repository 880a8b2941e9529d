package upstreamclients

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// PluginName is the name PluginsDir installs the plugin under, the name a
// policy's {"type": "plugin", "plugin": ...} requirement refers to.
const PluginName = "sigstore"

var pluginBuild struct {
	sync.Mutex
	dir, path string
	err       error
}

// PluginBinary is this repository's plugin, built once per test binary
// (static, with the tags the Makefile uses). Call Cleanup from TestMain to
// remove it.
func PluginBinary(t testing.TB) string {
	t.Helper()
	pluginBuild.Lock()
	defer pluginBuild.Unlock()
	if pluginBuild.path == "" && pluginBuild.err == nil {
		pluginBuild.path, pluginBuild.err = buildPlugin()
	}
	if pluginBuild.err != nil {
		t.Fatalf("upstreamclients: building the plugin: %v", pluginBuild.err)
	}
	return pluginBuild.path
}

func buildPlugin() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "upstreamclients-")
	if err != nil {
		return "", err
	}
	pluginBuild.dir = dir
	bin := filepath.Join(dir, PluginName)
	cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", bin, "./cmd/containers-policy-sigstore")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-tags=containers_image_openpgp")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/containers-policy-sigstore: %w\n%s", err, out.String())
	}
	return bin, nil
}

// Cleanup removes what PluginBinary built.
func Cleanup() {
	pluginBuild.Lock()
	defer pluginBuild.Unlock()
	if pluginBuild.dir != "" {
		_ = os.RemoveAll(pluginBuild.dir)
	}
	pluginBuild.dir, pluginBuild.path, pluginBuild.err = "", "", nil
}

// PluginsDir is a new directory holding the plugin as PluginName (mode 0755,
// whatever the umask): a value for CONTAINERS_POLICY_PLUGINS_DIR.
func PluginsDir(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile(PluginBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, PluginName)
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
