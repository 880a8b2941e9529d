package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestToolsDirFollowsXDG: the Go tests look for the pinned tools where
// hack/install-deps.sh and hack/tool.sh put them, ${CPS_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/cps-tools},
// not in a hard-coded /root/.cache (CI may run as another user).
func TestToolsDirFollowsXDG(t *testing.T) {
	for _, tc := range []struct {
		name, cpsTools, xdg, home, want string
	}{
		{"CPS_TOOLS wins", "/opt/tools", "/xdg", "/home/u", "/opt/tools"},
		{"XDG_CACHE_HOME next", "", "/xdg", "/home/u", "/xdg/cps-tools"},
		{"then HOME/.cache", "", "", "/home/u", "/home/u/.cache/cps-tools"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CPS_TOOLS", tc.cpsTools)
			t.Setenv("XDG_CACHE_HOME", tc.xdg)
			t.Setenv("HOME", tc.home)
			if got := toolsDir(); got != tc.want {
				t.Errorf("toolsDir() = %q, want %q", got, tc.want)
			}
			// hack/tool.sh names the same place in its "not installed" message.
			cmd := exec.Command("bash", filepath.Join("..", "..", "hack", "tool.sh"), "gofumpt")
			cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + tc.home, "XDG_CACHE_HOME=" + tc.xdg, "CPS_TOOLS=" + tc.cpsTools}
			out, _ := cmd.CombinedOutput()
			if !strings.Contains(string(out), tc.want+"/gofumpt-") {
				t.Errorf("hack/tool.sh says %q, want a path under %s", out, tc.want)
			}
		})
	}
}
