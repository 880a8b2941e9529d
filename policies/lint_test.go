package policies

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/cli"
	"github.com/policy-plugins/sigstore/plugin"
	"github.com/policy-plugins/sigstore/protocol"
	"go.yaml.in/yaml/v3"
)

// TestMain lets this test binary also be the sigstore plugin, which runs what
// the plugin binary runs (plugin.Serve): lint runs the plugin through the host
// package, which finds it by name in a directory.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "sigstore" {
		os.Exit(plugin.Serve(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// installPlugin copies this test binary to DIR/sigstore, mode 0755, as a
// package installs the plugin, and points the host package at DIR.
func installPlugin(t *testing.T) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(filepath.Join(dir, "sigstore"), os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	t.Setenv(protocol.PluginDirsEnv, dir)
}

// Every example is lint-clean: no error and no warning, through the same
// command an operator runs before installing it.
func TestExamplesLintClean(t *testing.T) {
	installPlugin(t)
	for _, file := range append(policyFiles(t), "migrate-sigstoresigned/before.json") {
		t.Run(strings.ReplaceAll(file, "/", "_"), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "policy.json")
			if err := os.WriteFile(path, rewritePolicy(t, mustRead(t, file)), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			status := cli.Run([]string{"lint", "--policy", path}, strings.NewReader(""), &stdout, &stderr)
			if status != 0 || !strings.Contains(stdout.String(), "0 errors, 0 warnings") {
				t.Fatalf("lint exit %d\nstdout:\n%s\nstderr:\n%s", status, stdout.String(), stderr.String())
			}
		})
	}
}

// registriesD is containers-registries.d(5)'s file format, strictly.
type registriesD struct {
	DefaultDocker *namespace           `yaml:"default-docker"`
	Docker        map[string]namespace `yaml:"docker"`
}

type namespace struct {
	UseSigstoreAttachments *bool `yaml:"use-sigstore-attachments"`
}

// cosign's sha256-<digest>.sig attachments, and with the patched
// containers/image Sigstore bundle referrers too, are only fetched where
// registries.d enables use-sigstore-attachments: every example ships a
// registries.d file that covers each image it tests.
func TestExamplesEnableSigstoreAttachments(t *testing.T) {
	for _, c := range cases {
		example := strings.Split(c.policy, "/")[0]
		files, _ := filepath.Glob(filepath.Join(example, "registries.d", "*.yaml"))
		if len(files) == 0 {
			t.Errorf("%s: no registries.d/*.yaml, but %q is signed", example, c.name)
			continue
		}
		if !attachmentsEnabled(t, files, c.image) {
			t.Errorf("%s: registries.d does not enable use-sigstore-attachments for %s", example, c.image)
		}
	}
}

// attachmentsEnabled applies registries.d's rule: the longest namespace that
// is the image's repository or a path prefix of it decides.
func attachmentsEnabled(t *testing.T, files []string, image string) bool {
	t.Helper()
	repo, _, _ := strings.Cut(image, "@")
	repo, _, _ = strings.Cut(repo, ":")
	best, enabled := -1, false
	for _, f := range files {
		var cfg registriesD
		dec := yaml.NewDecoder(bytes.NewReader(mustRead(t, f)))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for ns, v := range cfg.Docker {
			if (repo == ns || strings.HasPrefix(repo, ns+"/")) && len(ns) > best && v.UseSigstoreAttachments != nil {
				best, enabled = len(ns), *v.UseSigstoreAttachments
			}
		}
	}
	return enabled
}
