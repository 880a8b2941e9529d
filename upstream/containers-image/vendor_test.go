// Package containersimage holds the patch series for go.podman.io/image/v5
// (see README.md); its tests keep the series consistent with this repository.
package containersimage

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// hostCopyDir is where patch 1 puts the generated copy of protocol/.
const hostCopyDir = "signature/internal/policyplugin/"

// series returns the patch files named in the series file, in order.
func series(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("series")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for line := range strings.SplitSeq(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line != "" {
			names = append(names, line)
		}
	}
	return names
}

// newFiles returns the files a git patch creates, with their contents.
func newFiles(t *testing.T, patch []byte) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	var cur string
	var body *bytes.Buffer
	inHunk := false
	sc := bufio.NewScanner(bytes.NewReader(patch))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "diff --git "):
			cur, inHunk = "", false
		case line == "--- /dev/null":
			cur = "pending"
		case strings.HasPrefix(line, "+++ b/") && cur == "pending":
			cur = strings.TrimPrefix(line, "+++ b/")
			body = &bytes.Buffer{}
			files[cur] = nil
		case strings.HasPrefix(line, "@@ ") && cur != "" && cur != "pending":
			inHunk = true
		case inHunk && strings.HasPrefix(line, "+"):
			body.WriteString(line[1:] + "\n")
			files[cur] = body.Bytes()
		case inHunk && line == `\ No newline at end of file`:
			files[cur] = bytes.TrimSuffix(body.Bytes(), []byte("\n"))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return files
}

// TestPatchCarriesTheGeneratedHostCopy fails when protocol/ changed and the patch
// series was not regenerated (hack/upstream-vendor-host.sh, hack/upstream-regen.sh),
// or when the copy in the series was edited by hand.
func TestPatchCarriesTheGeneratedHostCopy(t *testing.T) {
	// Read the generator's inputs here too: go test caches a result by the files the
	// test itself opened, and would otherwise miss an edit of protocol/.
	for _, pattern := range []string{"../../protocol/*.go", "../../protocol/strictjson/*.go", "../../hack/upstream-vendor-host.sh"} {
		inputs, err := filepath.Glob(pattern)
		if err != nil || len(inputs) == 0 {
			t.Fatalf("%s: %v", pattern, err)
		}
		for _, f := range inputs {
			if _, err := os.ReadFile(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := t.TempDir()
	cmd := exec.Command("bash", "../../hack/upstream-vendor-host.sh", want)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("upstream-vendor-host.sh: %v\n%s", err, out)
	}
	wantFiles := map[string][]byte{}
	err := filepath.WalkDir(want, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(want, path)
		data, err := os.ReadFile(path)
		wantFiles[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	got := map[string][]byte{}
	for _, p := range series(t) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for name, content := range newFiles(t, data) {
			if strings.HasPrefix(name, hostCopyDir) {
				got[name] = content
			}
		}
		// The copy is generated: no later hunk may edit it.
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "--- a/"+hostCopyDir) {
				t.Errorf("%s edits %s: regenerate the copy instead", p, strings.TrimPrefix(line, "--- a/"))
			}
		}
	}
	if len(got) == 0 {
		t.Fatalf("no patch of the series creates %s", hostCopyDir)
	}
	for name, content := range wantFiles {
		if g, ok := got[name]; !ok {
			t.Errorf("the series does not create %s: run hack/upstream-regen.sh (see README.md)", name)
		} else if !bytes.Equal(g, content) {
			t.Errorf("%s in the series differs from hack/upstream-vendor-host.sh's output: regenerate the series (see README.md)", name)
		}
	}
	for name := range got {
		if _, ok := wantFiles[name]; !ok {
			t.Errorf("the series creates %s, which hack/upstream-vendor-host.sh does not generate", name)
		}
	}
}

// TestHostCopyIsHostOnly: the copy patch 1 carries has no plugin side's serving, so
// that a reviewer reads the change and the smallest host, and nothing that
// sets the process's memory limit, which is no library's to set.
func TestHostCopyIsHostOnly(t *testing.T) {
	for _, p := range series(t) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for name, content := range newFiles(t, data) {
			if !strings.HasPrefix(name, hostCopyDir) {
				continue
			}
			for _, plugin := range []string{"func Serve(", "type Handler interface", "SetMemoryLimit"} {
				if bytes.Contains(content, []byte(plugin)) {
					t.Errorf("%s in %s has the plugin side's %q", name, p, plugin)
				}
			}
		}
	}
}

// TestSeriesIsComplete checks the layout others script against: VERSION is one
// release, series lists every patch once, and each patch is signed off.
func TestSeriesIsComplete(t *testing.T) {
	version, err := os.ReadFile("VERSION")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+\n$`).Match(version) {
		t.Errorf("VERSION is %q, want one line naming a release, e.g. v5.42.1", version)
	}

	listed := series(t)
	onDisk, err := filepath.Glob("*.patch")
	if err != nil {
		t.Fatal(err)
	}
	sorted := append([]string(nil), listed...)
	sort.Strings(sorted)
	if strings.Join(sorted, " ") != strings.Join(onDisk, " ") {
		t.Errorf("series lists %v, the directory holds %v", listed, onDisk)
	}
	for _, p := range listed {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte("\nSigned-off-by: ")) {
			t.Errorf("%s has no Signed-off-by line", p)
		}
	}
}

// TestApplyFailsNamingThePatch: a hunk that no longer applies (here: a context line
// of the second patch changed, as an upstream edit would) makes upstream-apply.sh
// fail, naming the patch, rather than apply the series in part or with fuzz.
func TestApplyFailsNamingThePatch(t *testing.T) {
	if testing.Short() {
		t.Skip("copies the module out of the module cache")
	}
	names := series(t)
	if len(names) < 2 {
		t.Fatalf("series has %d patches", len(names))
	}
	seriesDir := t.TempDir()
	for _, f := range append([]string{"VERSION", "series"}, names...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if f == names[1] {
			// The first context line of the first hunk.
			lines := strings.Split(string(data), "\n")
			inHunk := false
			for i, l := range lines {
				if strings.HasPrefix(l, "@@ ") {
					inHunk = true
				} else if inHunk && strings.HasPrefix(l, " ") && strings.TrimSpace(l) != "" {
					lines[i] = l + " // changed upstream"
					break
				}
			}
			data = []byte(strings.Join(lines, "\n"))
		}
		if err := os.WriteFile(filepath.Join(seriesDir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", "../../hack/upstream-apply.sh", filepath.Join(t.TempDir(), "image"))
	cmd.Env = append(os.Environ(), "UPSTREAM_SERIES_DIR="+seriesDir)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("upstream-apply.sh succeeded with a broken patch:\n%s", out)
	}
	if want := "upstream-apply: FAILED: " + names[1] + " does not apply"; !bytes.Contains(out, []byte(want)) {
		t.Errorf("output does not say %q:\n%s", want, out)
	}
}
