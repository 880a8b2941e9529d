package protocol

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestValidatePluginName(t *testing.T) {
	for _, name := range []string{"sigstore", "a", "0", "x.y_z-1", strings.Repeat("a", 64)} {
		if err := ValidatePluginName(name); err != nil {
			t.Errorf("ValidatePluginName(%q): %v, want valid", name, err)
		}
	}
	for _, name := range []string{"", "../x", "A", "Sigstore", "a/b", "/usr/bin/x", ".hidden", "-x", "_x", "a b", "a\n", strings.Repeat("a", 65), "sigstöre"} {
		if err := ValidatePluginName(name); err == nil {
			t.Errorf("ValidatePluginName(%q) accepted it", name)
		}
	}
}

func TestVerifyRejectsBadPluginNamesBeforeLookingForFiles(t *testing.T) {
	h, dir := installPlugin(t, "good")
	// A valid plugin file reachable through each bad name must still not run.
	if err := os.Link(filepath.Join(dir, "good"), filepath.Join(dir, "Good")); err != nil {
		t.Fatal(err)
	}
	h.Dirs = []string{filepath.Join(dir, "sub")}
	if err := os.Mkdir(h.Dirs[0], 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"../good", "../Good", "Good", ""} {
		t.Run("name "+strconvQuote(name), func(t *testing.T) {
			d, err := h.Verify(context.Background(), name, testVerifyRequest(acceptConfig))
			assertRejected(t, d, err, "invalid plugin name")
		})
	}
}

func strconvQuote(s string) string { return `"` + s + `"` }

func TestVerifyRejectsAPluginFileThatBreaksTheRules(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) // makes dir/p
		want  string
	}{
		{"a symbolic link to a good plugin", func(t *testing.T, dir string) {
			if err := os.Symlink(pluginBinary(t), filepath.Join(dir, "p")); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link"},
		{"a group-writable plugin", copyWithMode(0o775), "is writable by group or others (mode 0775)"},
		{"a world-writable plugin", copyWithMode(0o757), "is writable by group or others (mode 0757)"},
		{"a plugin that is not executable", copyWithMode(0o644), "is not executable (mode 0644)"},
		{"a directory", func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, "p"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, "is not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			h := &Host{Dirs: []string{dir}}
			// "p" is not a test behaviour: were it run, the test binary would
			// run its tests and never answer within the protocol. It must
			// not be run at all.
			d, err := h.Verify(context.Background(), "p", testVerifyRequest(acceptConfig))
			assertRejected(t, d, err, tt.want)
			if _, err := h.Resolve("p"); err == nil {
				t.Errorf("Resolve accepted the file")
			}
		})
	}
}

func copyWithMode(mode os.FileMode) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		if err := copyFile(pluginBinary(t), filepath.Join(dir, "p"), mode); err != nil {
			t.Fatal(err)
		}
	}
}

func TestResolveSearchesDirectoriesInOrder(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	copyWithMode(0o755)(t, second)
	h := &Host{Dirs: []string{first, second}}

	t.Run("a directory without the plugin is skipped", func(t *testing.T) {
		path, err := h.Resolve("p")
		if err != nil || path != filepath.Join(second, "p") {
			t.Errorf("Resolve = %q, %v; want %q", path, err, filepath.Join(second, "p"))
		}
	})
	t.Run("a bad file in an earlier directory is an error, not a reason to look further", func(t *testing.T) {
		copyWithMode(0o777)(t, first)
		if path, err := h.Resolve("p"); err == nil {
			t.Errorf("Resolve = %q, want an error for %s", path, filepath.Join(first, "p"))
		}
	})
}

func TestDefaultDirs(t *testing.T) {
	t.Setenv(PluginDirsEnv, "relative/dir:/opt/plugins::/usr/local/lib/plugins/")
	want := []string{"/opt/plugins", "/usr/local/lib/plugins", DefaultPluginDir}
	if got := DefaultDirs(); !slices.Equal(got, want) {
		t.Errorf("DefaultDirs() = %q, want %q (absolute entries first, relative and empty ones ignored)", got, want)
	}
	if got := NewHost().Dirs; !slices.Equal(got, want) {
		t.Errorf("NewHost().Dirs = %q, want %q", got, want)
	}
	t.Setenv(PluginDirsEnv, "")
	if got := (&Host{}).dirs(); !slices.Equal(got, []string{DefaultPluginDir}) {
		t.Errorf("the zero Host searches %q, want only %s", got, DefaultPluginDir)
	}
}

// TestPluginNameRuleIsTheProtocolRegexp compares validPluginName with the rule
// as containers-policy-plugin(5) (POLICY.JSON) writes it, on every string of one and two bytes, and on
// lengths around the limit.
func TestPluginNameRuleIsTheProtocolRegexp(t *testing.T) {
	rule := regexp.MustCompile(`\A[a-z0-9][a-z0-9._-]{0,63}\z`)
	var names []string
	for a := range 256 {
		names = append(names, string([]byte{byte(a)}))
		for b := range 256 {
			names = append(names, string([]byte{byte(a), byte(b)}))
		}
	}
	for n := 60; n <= 66; n++ {
		names = append(names, strings.Repeat("a", n), "a"+strings.Repeat("-", n-1), strings.Repeat("a", n-1)+"é")
	}
	names = append(names, "", "sigstore", "sigstore\n", "é", "a\x00")
	for _, name := range names {
		if got, want := validPluginName(name), rule.MatchString(name); got != want {
			t.Errorf("validPluginName(%q) = %v, the protocol's rule says %v", name, got, want)
		}
	}
	t.Logf("compared %d names", len(names))
}
