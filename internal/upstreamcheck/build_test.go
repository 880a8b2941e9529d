package upstreamcheck

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// treeEnv names an already patched go.podman.io/image/v5 tree (made by
// hack/upstream-apply.sh); without it the tests make their own.
const treeEnv = "CPS_UPSTREAM_TREE"

// module is the image module the series patches.
const module = "go.podman.io/image/v5"

// buildTags are the tags containers/image builds with without cgo.
const buildTags = "containers_image_openpgp"

// workDir holds what the tests build once and share: the patched tree, the
// program, the plugin. TestMain removes it.
var workDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "upstreamcheck-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	workDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is this repository's root (tests run in their package directory).
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// once runs build the first time and remembers its result for every test.
type once struct {
	sync.Once
	path string
	err  error
}

func (o *once) get(t testing.TB, build func() (string, error)) string {
	t.Helper()
	o.Do(func() { o.path, o.err = build() })
	if o.err != nil {
		t.Fatal(o.err)
	}
	return o.path
}

var patchedTree, patchedProgram, sigstorePlugin once

// patchedModule is the patched module tree: $CPS_UPSTREAM_TREE, or a fresh
// one from hack/upstream-apply.sh, which fails naming a patch that no longer
// applies.
func patchedModule(t testing.TB) string {
	t.Helper()
	root := repoRoot(t)
	return patchedTree.get(t, func() (string, error) {
		if dir := os.Getenv(treeEnv); dir != "" {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
				return "", fmt.Errorf("$%s: %w", treeEnv, err)
			}
			return dir, nil
		}
		dest := filepath.Join(workDir, "image")
		return dest, command(root, nil, filepath.Join(root, "hack", "upstream-apply.sh"), dest)
	})
}

// patched is the e2e program built against the patched module.
func patched(t testing.TB) program {
	t.Helper()
	tree := patchedModule(t)
	return program(patchedProgram.get(t, func() (string, error) {
		return buildProgram(repoRoot(t), "patched", tree)
	}))
}

// buildProgram builds upstream/containers-image/e2e from a copy of its module
// (so that the checked-in go.mod stays as it is), with a replace directive
// for the image module pointing at tree.
func buildProgram(root, name, tree string) (string, error) {
	src := filepath.Join(root, "upstream", "containers-image", "e2e")
	dir := filepath.Join(workDir, "src-"+name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	files, err := filepath.Glob(filepath.Join(src, "*"))
	if err != nil {
		return "", err
	}
	for _, f := range files {
		if filepath.Ext(f) != ".go" && filepath.Base(f) != "go.mod" && filepath.Base(f) != "go.sum" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			return "", err
		}
	}
	env := append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0", "GOFLAGS=-tags="+buildTags)
	if err := command(dir, env, "go", "mod", "edit", "-replace", module+"="+tree); err != nil {
		return "", err
	}
	bin := filepath.Join(workDir, "upstream-e2e-"+name)
	return bin, command(dir, env, "go", "build", "-o", bin, ".")
}

// plugin is this repository's plugin binary (the file hosts run as
// policy-plugins.d/sigstore), built once.
func plugin(t testing.TB) string {
	t.Helper()
	root := repoRoot(t)
	return sigstorePlugin.get(t, func() (string, error) {
		bin := filepath.Join(workDir, "containers-policy-sigstore-plugin")
		env := append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-tags="+buildTags)
		return bin, command(root, env, "go", "build", "-ldflags=-s -w", "-o", bin, "./cmd/containers-policy-sigstore-plugin")
	})
}

// command runs name args in dir; a failure's error holds its output.
func command(dir string, env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %q in %s: %w\n%s", name, args, dir, err, out.String())
	}
	return nil
}
