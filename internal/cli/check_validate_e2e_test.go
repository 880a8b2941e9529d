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

// check runs plugins as the patched containers/image does (protocol
// revision 2): no validate-config at policy load; the evaluated scope's
// verify carries its config, and an INVALID_CONFIG answer is an error (exit
// 2), not a rejection; a broken config in another scope changes nothing for
// this image. check --lint validates every config of the policy, once per
// distinct plugin and config, and reports what it finds as warnings,
// without changing the verdict or the exit status.

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

func TestCheckValidatesOnlyTheEvaluatedScopesConfigs(t *testing.T) {
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
		lintWarns          string // what check --lint warns about, at its path
	}{
		{
			name: "a broken config in a scope the image does not use", defaultScope: reject,
			scopes:    map[string]string{scope: good, "other.example/app": broken("other")},
			lintWarns: `transports.docker["other.example/app"][0].config.keyPath: invalid plugin config: `,
		},
		{
			name: "a broken config in the default scope", defaultScope: broken("default"),
			scopes:    map[string]string{scope: good},
			lintWarns: `default[0].config.keyPath: invalid plugin config: `,
		},
		{
			name: "a plugin that is not installed, in a scope the image does not use", defaultScope: reject,
			scopes:    map[string]string{scope: good, "other.example/app": `[{"type": "plugin", "plugin": "nosuch", "config": {}}]`},
			lintWarns: `transports.docker["other.example/app"][0]: plugin "nosuch": not found`,
		},
	} {
		policy := policyOf(t, tt.defaultScope, tt.scopes)
		t.Run(tt.name+" changes nothing for this image", func(t *testing.T) {
			r := env.check(t, policy, img.Ref, "json")
			r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
			if len(r.report.Warnings) != 0 {
				t.Errorf("warnings %+v without --lint", r.report.Warnings)
			}
		})
		t.Run(tt.name+" is a warning of check --lint", func(t *testing.T) {
			r := env.check(t, policy, img.Ref, "text", "--lint")
			r.want(t, ExitOK, r.stdout, "warning: "+tt.lintWarns, "verdict: accepted")
		})
	}

	t.Run("a broken config in the evaluated scope is an error from verify, not a rejection", func(t *testing.T) {
		policy := policyOf(t, reject, map[string]string{scope: broken("team")})
		for _, extra := range [][]string{nil, {"--lint"}} {
			r := env.check(t, policy, img.Ref, "json", extra...)
			r.want(t, ExitUsage, r.stderr, `policy transports.docker["`+scope+`"][0]: plugin "sigstore" verify: INVALID_CONFIG: config.keyPath: `)
			r.want(t, ExitUsage, r.stdout, `"verdict": "error"`)
		}
	})

	t.Run("no validate-config on the way; verify once per requirement; with --lint each distinct config validated once", func(t *testing.T) {
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
		if got, want := invocations(t, log), []string{"verify", "verify", "verify"}; !slices.Equal(got, want) {
			t.Errorf("check ran the plugin for %q, want %q", got, want)
		}
		r = env.check(t, policy, img.Ref, "json", "--lint")
		r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
		if got, want := invocations(t, log), []string{"validate-config", "validate-config", "verify", "verify", "verify"}; !slices.Equal(got, want) {
			t.Errorf("check --lint ran the plugin for %q, want %q", got, want)
		}
	})

	t.Run("--lint: warnings of every validated config, at the first requirement's path", func(t *testing.T) {
		warner := func(level int) string {
			return fmt.Sprintf(`{"type": "plugin", "plugin": "warner", "config": {"level": %d}}`, level)
		}
		policy := policyOf(t, "["+warner(1)+"]", map[string]string{
			scope:               good,
			"other.example/app": "[" + warner(1) + ", " + warner(2) + "]",
		})

		r := env.check(t, policy, img.Ref, "json", "--lint")
		r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
		want := []check.Problem{
			{Path: "default[0].config.level", Message: "level is deprecated"},
			{Path: `transports.docker["other.example/app"][1].config.level`, Message: "level is deprecated"},
		}
		if !slices.Equal(r.report.Warnings, want) {
			t.Errorf("warnings %+v, want %+v", r.report.Warnings, want)
		}
		text := env.check(t, policy, img.Ref, "text", "--lint")
		text.want(t, ExitOK, text.stdout, "warning: default[0].config.level: level is deprecated\n",
			"warning: transports.docker[\"other.example/app\"][1].config.level: level is deprecated\n")
	})
}
