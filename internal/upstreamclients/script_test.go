package upstreamclients_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Tests of hack/upstream-clients.sh that build nothing: its failures, its
// cache and its clone path, on copies of upstream/clients.

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// runScript runs hack/upstream-clients.sh with env added, its output and
// cache in temporary directories unless env says otherwise.
func runScript(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot(t), "hack", "upstream-clients.sh"), args...)
	cmd.Env = append(os.Environ(), "UPSTREAM_CLIENTS_OUT="+t.TempDir(), "UPSTREAM_CLIENTS_CACHE="+t.TempDir())
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatal(err)
	}
	t.Logf("upstream-clients.sh %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errb.String())
	return out.String(), errb.String(), code
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// copyDir copies a directory tree of regular files.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// clientsCopy is a copy of upstream/clients to change.
func clientsCopy(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clients")
	copyDir(t, filepath.Join(repoRoot(t), "upstream", "clients"), dir)
	return dir
}

func pinnedCommit(t *testing.T, project string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "upstream", "clients", "sources"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == project {
			return f[2]
		}
	}
	t.Fatalf("upstream/clients/sources names no %s", project)
	return ""
}

func wantFailure(t *testing.T, stderr string, code int, want string) {
	t.Helper()
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if got := lastLine(stderr); got != want {
		t.Errorf("last line %q,\nwant      %q", got, want)
	}
}

func TestScriptRefusesSourceAtAnotherCommit(t *testing.T) {
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "skopeo"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(src, "skopeo"), "COMMIT", "0123456789abcdef\n")
	_, stderr, code := runScript(t, []string{"UPSTREAM_SRC=" + src}, "key", "skopeo")
	wantFailure(t, stderr, code, "upstream-clients: FAILED: skopeo: "+filepath.Join(src, "skopeo")+
		" is at commit '0123456789abcdef', upstream/clients/sources pins "+pinnedCommit(t, "skopeo"))
}

func TestScriptNamesMissingPins(t *testing.T) {
	clients := clientsCopy(t)
	if err := os.Remove(filepath.Join(clients, "skopeo", "go.sum")); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runScript(t, []string{"UPSTREAM_CLIENTS_DIR=" + clients}, "build", "skopeo")
	wantFailure(t, stderr, code, "upstream-clients: FAILED: skopeo: upstream/clients/skopeo/go.sum is missing: run hack/upstream-clients.sh pin skopeo")
}

func TestScriptNamesPatchThatDoesNotApply(t *testing.T) {
	clients := clientsCopy(t)
	write(t, filepath.Join(clients, "podman"), "0002-stale.patch", `A change to a line podman no longer has.

--- a/version/version.go
+++ b/version/version.go
@@ -1,3 +1,3 @@
-package nothing
+package something
 
 import (
`)
	_, stderr, code := runScript(t, []string{"UPSTREAM_CLIENTS_DIR=" + clients}, "build", "podman")
	wantFailure(t, stderr, code, "upstream-clients: FAILED: podman: patch 0002-stale.patch does not apply")
	if !strings.Contains(stderr, "applied 0001-mpb-v8.16-ProxyReader-returns-an-error.patch: mpb v8.16") {
		t.Errorf("the first patch was not applied, or not explained by its first line")
	}
}

// keys is the script's `key` output as a map.
func keys(t *testing.T, env []string) map[string]string {
	t.Helper()
	stdout, _, code := runScript(t, env, "key")
	if code != 0 {
		t.Fatalf("key: exit %d", code)
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || len(f[1]) != 64 {
			t.Fatalf("key printed %q", line)
		}
		m[f[0]] = f[1]
	}
	return m
}

// TestScriptKeysFollowInputs: a client's key changes with its own inputs and
// with the series, and no other's does (skopeo-pristine does not use the series).
func TestScriptKeysFollowInputs(t *testing.T) {
	clients := clientsCopy(t)
	series := filepath.Join(t.TempDir(), "series")
	copyDir(t, filepath.Join(repoRoot(t), "upstream", "containers-image"), series)
	env := []string{"UPSTREAM_CLIENTS_DIR=" + clients, "UPSTREAM_SERIES_DIR=" + series}
	before := keys(t, env)
	if again := keys(t, env); again["podman"] != before["podman"] || again["skopeo"] != before["skopeo"] {
		t.Fatalf("keys differ between two runs: %v, %v", before, again)
	}
	// The same inputs in another directory: the same keys (CI clones afresh).
	if elsewhere := keys(t, nil); elsewhere["skopeo"] != before["skopeo"] {
		t.Errorf("the key depends on where the inputs are: %s here, %s in the repository", before["skopeo"], elsewhere["skopeo"])
	}

	write(t, filepath.Join(clients, "podman"), "0002-more.patch", "another change\n")
	after := keys(t, env)
	if after["podman"] == before["podman"] {
		t.Errorf("podman's key did not change with a new podman patch")
	}
	if after["skopeo"] != before["skopeo"] || after["skopeo-pristine"] != before["skopeo-pristine"] {
		t.Errorf("skopeo's keys changed with a podman patch")
	}

	patch := filepath.Join(series, "0001-signature-add-the-plugin-policy-requirement.patch")
	data, err := os.ReadFile(patch)
	if err != nil {
		t.Fatal(err)
	}
	write(t, series, filepath.Base(patch), string(data)+"-- \n")
	changed := keys(t, env)
	if changed["skopeo"] == after["skopeo"] || changed["podman"] == after["podman"] {
		t.Errorf("a change in the series did not change skopeo's and podman's keys")
	}
	if changed["skopeo-pristine"] != after["skopeo-pristine"] {
		t.Errorf("a change in the series changed skopeo-pristine's key")
	}
}

// TestScriptReusesCachedBuild: a build with the same key in the cache (an
// earlier run, in any clone) is copied instead of built, then up to date.
func TestScriptReusesCachedBuild(t *testing.T) {
	cache, out := t.TempDir(), t.TempDir()
	env := []string{"UPSTREAM_CLIENTS_CACHE=" + cache, "UPSTREAM_CLIENTS_OUT=" + out}
	key := keys(t, env)["skopeo-pristine"]
	if err := os.MkdirAll(filepath.Join(cache, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	fake := "#!/bin/sh\necho cached build\n"
	if err := os.WriteFile(filepath.Join(cache, "bin", "skopeo-pristine-"+key), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}

	_, stderr, code := runScript(t, env, "build", "skopeo-pristine")
	if code != 0 || !strings.Contains(stderr, "skopeo-pristine: from the cache") {
		t.Fatalf("exit %d, want a copy from the cache", code)
	}
	if got, err := os.ReadFile(filepath.Join(out, "skopeo-pristine")); err != nil || string(got) != fake {
		t.Fatalf("bin/upstream/skopeo-pristine = %q, %v; want the cached build", got, err)
	}
	_, stderr, code = runScript(t, env, "build", "skopeo-pristine")
	if code != 0 || !strings.Contains(stderr, "skopeo-pristine: up to date") {
		t.Errorf("second run: exit %d, want up to date", code)
	}
}

// TestScriptClonesAbsentSource: without $UPSTREAM_SRC/PROJECT the script
// clones the repository in upstream/clients/sources at its commit, once, and
// uses the tree without .git. Here the repository is a local one: this
// machine reaches no git host.
func TestScriptClonesAbsentSource(t *testing.T) {
	repo := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %q: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	write(t, repo, "go.mod", "module example.com/skopeo\n")
	if err := os.MkdirAll(filepath.Join(repo, "vendor"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(repo, "vendor"), "modules.txt", "")
	git("add", ".")
	git("commit", "-q", "-m", "snapshot")
	commit := git("rev-parse", "HEAD")

	clients := clientsCopy(t)
	write(t, clients, "sources", "skopeo "+repo+" "+commit+"\n")
	cache := t.TempDir()
	env := []string{"UPSTREAM_CLIENTS_DIR=" + clients, "UPSTREAM_SRC=" + t.TempDir(), "UPSTREAM_CLIENTS_CACHE=" + cache}
	_, stderr, code := runScript(t, env, "key", "skopeo")
	if code != 0 || !strings.Contains(stderr, "cloning "+repo+" at "+commit) {
		t.Fatalf("exit %d, want a clone of %s at %s", code, repo, commit)
	}
	tree := filepath.Join(cache, "src", "skopeo-"+commit)
	if got, err := os.ReadFile(filepath.Join(tree, "COMMIT")); err != nil || strings.TrimSpace(string(got)) != commit {
		t.Errorf("COMMIT = %q, %v; want %s", got, err, commit)
	}
	if _, err := os.Stat(filepath.Join(tree, "go.mod")); err != nil {
		t.Errorf("the clone has no go.mod: %v", err)
	}
	for _, gone := range []string{".git", "vendor"} {
		if _, err := os.Stat(filepath.Join(tree, gone)); !os.IsNotExist(err) {
			t.Errorf("the clone kept %s (%v)", gone, err)
		}
	}
	_, stderr, code = runScript(t, env, "key", "skopeo")
	if code != 0 || strings.Contains(stderr, "cloning") {
		t.Errorf("second run: exit %d, cloned again", code)
	}
}
