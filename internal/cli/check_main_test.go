package cli

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/policy-plugins/sigstore/plugin"
	"github.com/policy-plugins/sigstore/protocol"
)

var updateScripts = flag.Bool("update", false, "update the golden parts of the test scripts in testdata")

// TestMain makes this test binary three programs: the tests; the command
// (containers-policy-sigstore, on $PATH in scripts); and the sigstore plugin,
// when started under that name from a plugin directory, as check and lint
// start it through the host package. The plugin runs what the plugin binary
// (cmd/containers-policy-sigstore-plugin) runs, which answers the protocol
// commands only: a check that ran the command instead would fail its scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		Program:    func() { os.Exit(Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
		"sigstore": func() { os.Exit(plugin.Serve(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// installPlugin puts the sigstore plugin (this test binary, which runs as the
// plugin under that name) into dir with mode 0755, as a package would install
// it, and returns dir.
func installPlugin(dir string) (string, error) {
	// testscript.Main put a copy named sigstore on $PATH; link it, it is big.
	src, err := exec.LookPath("sigstore")
	if err != nil {
		return "", fmt.Errorf("the sigstore test plugin is not on $PATH: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, "sigstore")
	if err := os.Link(src, dst); err != nil {
		data, err := os.ReadFile(src)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(dst, data, 0o755); err != nil {
			return "", err
		}
	}
	// The plugin must not be group- or other-writable, whatever the umask.
	return dir, os.Chmod(dst, 0o755)
}

// scriptParams are the settings of the check and lint scripts: $REPO is the
// repository root (for testdata), $WORK/plugins holds the sigstore plugin and
// is $CONTAINERS_POLICY_PLUGINS_DIR.
func scriptParams(t *testing.T, dir string) testscript.Params {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return testscript.Params{
		Dir:           dir,
		UpdateScripts: *updateScripts,
		Setup: func(env *testscript.Env) error {
			env.Setenv("REPO", repo)
			plugins, err := installPlugin(filepath.Join(env.WorkDir, "plugins"))
			env.Setenv(protocol.PluginDirsEnv, plugins)
			return err
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"expand": expandFiles,
		},
	}
}

// expand FILE... replaces $VARIABLES in each file with their values, so that
// policies can name $REPO/testdata files by absolute path.
func expandFiles(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: expand FILE...")
	}
	for _, name := range args {
		expanded := os.Expand(ts.ReadFile(name), ts.Getenv)
		ts.Check(os.WriteFile(ts.MkAbs(name), []byte(expanded), 0o644))
	}
}
