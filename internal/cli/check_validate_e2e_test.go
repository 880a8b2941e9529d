package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/check"
	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/protocol"
)

// check validates plugin configs as the patched containers/image does when
// podman loads the policy (NewPolicyContext, patch 0001): every plugin
// requirement of the policy, whichever scope the image falls in, once per
// distinct plugin and config, in the policy's order (default, then
// transports and scopes sorted); one problem anywhere fails the policy, so
// podman refuses every image, and check has no verdict (exit 2).

// warningPlugin finds every config valid, with one warning, and fails
// anything else.
const warningPlugin = `#!/bin/sh
case "$1" in
validate-config) cat >/dev/null; echo '{"apiVersion":"containers-policy-plugin/v1alpha1","kind":"ValidateConfigResponse","valid":true,"errors":[],"warnings":[{"path":"config.level","message":"level is deprecated"}]}' ;;
*) cat >/dev/null; exit 3 ;;
esac
`

// countingPlugin installs, as dir/name, a logging wrapper around the
// sigstore plugin (e2e.CountingPlugin); invocations reads its log, sorted
// because the processes run at once.
func countingPlugin(t *testing.T, dir, name string) (log string) {
	t.Helper()
	plugin, err := exec.LookPath("sigstore") // installPlugin's source: this test binary
	if err != nil {
		t.Fatal(err)
	}
	return e2e.CountingPlugin(t, dir, name, plugin)
}

func invocations(t *testing.T, log string) []string {
	t.Helper()
	got := e2e.Invocations(t, log)
	slices.Sort(got)
	return got
}

// policyOf writes a policy.json with the default scope's requirements and
// docker scopes (name -> requirements, JSON lists).
func policyOf(t *testing.T, defaultScope string, scopes map[string]string) string {
	t.Helper()
	var entries []string
	for name, reqs := range scopes {
		quoted, err := json.Marshal(name)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, string(quoted)+": "+reqs)
	}
	return writeFile(t, "policy.json", fmt.Sprintf(`{"default": %s, "transports": {"docker": {%s}}}`, defaultScope, strings.Join(entries, ", ")))
}

func TestCheckValidatesTheWholePolicy(t *testing.T) {
	env := newCheckEnv(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, env.addr+"/team/app:1")
	e2e.SignLegacy(t, key, img.DigestRef())
	dir := t.TempDir()
	log := countingPlugin(t, dir, "counted")
	if err := os.WriteFile(filepath.Join(dir, "warner"), []byte(warningPlugin), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(protocol.PluginDirsEnv, dir+":"+os.Getenv(protocol.PluginDirsEnv))

	scope := env.addr + "/team"
	good := "[" + pluginRequirement(keyConfig(key, "matchRepository")) + "]"
	broken := func(name string) string {
		return "[" + pluginRequirement(`{"keyPath": "/nonexistent/`+name+`.pub", "signedIdentity": {"type": "matchRepository"}}`) + "]"
	}
	reject := `[{"type": "reject"}]`

	for _, tt := range []struct {
		name, defaultScope string
		scopes             map[string]string
		want, notWant      string
	}{
		{
			name: "a broken config in a scope the image does not use", defaultScope: reject,
			scopes: map[string]string{scope: good, "other.example/app": broken("other")},
			want:   `transports.docker["other.example/app"][0].config.keyPath: `,
		},
		{
			name: "a broken config in the default scope", defaultScope: broken("default"),
			scopes: map[string]string{scope: good},
			want:   `default[0].config.keyPath: `,
		},
		{
			name: "of two broken scopes, the first in sorted order", defaultScope: reject,
			scopes: map[string]string{scope: good, "b.example/app": broken("b"), "a.example/app": broken("a")},
			want:   `transports.docker["a.example/app"][0].config.keyPath: `, notWant: "b.example",
		},
		{
			name: "the default before the transports", defaultScope: broken("default"),
			scopes: map[string]string{scope: good, "a.example/app": broken("a")},
			want:   `default[0].config.keyPath: `, notWant: "a.example",
		},
		{
			name: "a plugin that is not installed, in a scope the image does not use", defaultScope: reject,
			scopes: map[string]string{scope: good, "other.example/app": `[{"type": "plugin", "plugin": "nosuch", "config": {}}]`},
			want:   `policy transports.docker["other.example/app"][0]: plugin "nosuch": not found`,
		},
	} {
		t.Run(tt.name+" fails the policy", func(t *testing.T) {
			r := env.check(t, policyOf(t, tt.defaultScope, tt.scopes), img.Ref, "json")
			r.want(t, ExitUsage, r.stderr, tt.want)
			r.want(t, ExitUsage, r.stdout, `"verdict": "error"`)
			if tt.notWant != "" && strings.Contains(r.stderr, tt.notWant) {
				t.Errorf("the error names %s, which comes later in the policy:\n%s", tt.notWant, r.stderr)
			}
		})
	}

	t.Run("each distinct plugin and config is validated once; verify runs once per requirement; metadata never", func(t *testing.T) {
		counted := func(signedIdentity string) string {
			return `{"type": "plugin", "plugin": "counted", "config": ` + keyConfig(key, signedIdentity) + `}`
		}
		same, other := counted("matchRepository"), counted("digestOnly")
		policy := policyOf(t, "["+same+"]", map[string]string{
			scope:               "[" + same + ", " + same + ", " + other + "]",
			"other.example/app": "[" + same + "]",
		})
		invocations(t, log)

		r := env.check(t, policy, img.Ref, "json")
		r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
		want := []string{"validate-config", "validate-config", "verify", "verify", "verify"}
		if got := invocations(t, log); !slices.Equal(got, want) {
			t.Errorf("check ran the plugin for %q, want %q", got, want)
		}
	})

	t.Run("warnings of every validated config, at the first requirement's path", func(t *testing.T) {
		warner := func(level int) string {
			return fmt.Sprintf(`{"type": "plugin", "plugin": "warner", "config": {"level": %d}}`, level)
		}
		policy := policyOf(t, "["+warner(1)+"]", map[string]string{
			scope:               good,
			"other.example/app": "[" + warner(1) + ", " + warner(2) + "]",
		})

		r := env.check(t, policy, img.Ref, "json")
		r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
		want := []check.Problem{
			{Path: "default[0].config.level", Message: "level is deprecated"},
			{Path: `transports.docker["other.example/app"][1].config.level`, Message: "level is deprecated"},
		}
		if !slices.Equal(r.report.Warnings, want) {
			t.Errorf("warnings %+v, want %+v", r.report.Warnings, want)
		}
		text := env.check(t, policy, img.Ref, "text")
		text.want(t, ExitOK, text.stdout, "warning: default[0].config.level: level is deprecated\n",
			"warning: transports.docker[\"other.example/app\"][1].config.level: level is deprecated\n")
	})
}
