package upstreamcheck

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/e2e"
)

// A plugin that cannot be used refuses the images of its scope when they are
// evaluated (no plugin runs at policy load: the host checks and runs the
// plugin file for each verify). These are failures, not verdicts:
// containers/image reports them as errors (exit 3), never as an accept.

// signedSetting is a setting with one key-signed image that the sigstore
// plugin accepts, and the sigstore requirement for it.
func signedSetting(t *testing.T, repo string) (*setting, e2e.Image, string) {
	t.Helper()
	s := newSetting(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, s.addr+"/team/"+repo+":1")
	e2e.SignLegacy(t, key, img.DigestRef())
	return s, img, pluginRequirement("sigstore", keyConfig(key, "matchRepository"))
}

// wantRefused runs both hosts and asserts a failure naming every fragment.
func (s *setting) wantRefused(t *testing.T, policy, image string, fragments ...string) {
	t.Helper()
	r := s.copyToOCI(t, patched(t), policy, image)
	r.want(t, exitError, fragments...)
	r.wantNoLayout(t)
	s.allowed(t, patched(t), policy, image).want(t, exitError, fragments...)
}

func TestRefusesMissingPlugin(t *testing.T) {
	s, img, sigstore := signedSetting(t, "missing")

	policy := s.policy(t, sigstore, pluginRequirement("nosuch", `{}`))
	s.wantRefused(t, policy, img.Ref, `Policy plugin "nosuch" failed: `, `plugin "nosuch": not found in ["`+s.plugins)
}

func TestRefusesCrashingPlugin(t *testing.T) {
	s, img, sigstore := signedSetting(t, "crash")
	fakePlugin(t, s.plugins, "crashy", crashingVerify)
	// The sigstore plugin accepts; the crashing one must still sink the image.
	policy := s.policy(t, sigstore, pluginRequirement("crashy", `{}`))

	s.wantRefused(t, policy, img.Ref, `Policy plugin "crashy" failed: `, "exit status 139", "segmentation fault in verify")
}

func TestRefusesPluginThatHangsPastTheDeadline(t *testing.T) {
	s, img, sigstore := signedSetting(t, "hang")
	// The plugin leaves a child in its process group, and both sleep far
	// longer than the test; the host must kill the whole group.
	pids := filepath.Join(t.TempDir(), "pids")
	fakePlugin(t, s.plugins, "hangs", `echo $$ >>`+pids+`; sleep 600 & echo $! >>`+pids+`; sleep 600`)
	policy := s.policy(t, sigstore, pluginRequirement("hangs", `{}`))
	// Long enough for the registry round trips before the plugin runs, on a
	// loaded machine; far below the host's own 30 s.
	const deadline = 5 * time.Second
	prog := patched(t) // built before the clock starts

	for _, cmd := range []string{"copy", "allowed"} {
		t.Run(cmd, func(t *testing.T) {
			start := time.Now()
			var r result
			if cmd == "copy" {
				r = s.copyToOCI(t, prog, policy, img.Ref, "-timeout", deadline.String())
				r.wantNoLayout(t)
			} else {
				r = s.allowed(t, prog, policy, img.Ref, "-timeout", deadline.String())
			}
			r.want(t, exitError, `Policy plugin "hangs" failed: `, "timed out", "its process group was killed")
			if took := time.Since(start); took > deadline+15*time.Second {
				t.Errorf("refused after %s, want soon after the %s deadline", took, deadline)
			}
		})
	}
	wantDead(t, pids, 4) // two runs, each the plugin's shell and its child
}

// wantDead asserts that file lists n PIDs, all gone.
var wantDead = e2e.WantDead

func TestRefusesGroupWritablePlugin(t *testing.T) {
	s, img, sigstore := signedSetting(t, "writable")

	// The real sigstore plugin, which would accept the image.
	dir := t.TempDir()
	path := installPlugin(t, dir, "sigstore", plugin(t))
	if err := os.Chmod(path, 0o775); err != nil {
		t.Fatal(err)
	}
	g := *s
	g.plugins = dir
	policy := g.policy(t, sigstore)
	g.wantRefused(t, policy, img.Ref, `Policy plugin "sigstore" failed: `, "is writable by group or others (mode 0775)")
}
