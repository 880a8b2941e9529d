package plugin

import (
	"strings"
	"testing"
)

// TestConfigBreadthWarnings: every over-broad rule warns, found by what it
// matches; the narrow rules next to them do not.
func TestConfigBreadthWarnings(t *testing.T) {
	env := newTestEnv(t)
	const (
		ghIssuer = "https://token.actions.githubusercontent.com"
		workflow = "https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1"
	)
	subject := func(pattern string) map[string]any {
		return map[string]any{"issuer": ghIssuer, "subjectRegexp": pattern}
	}
	issuer := func(pattern string) map[string]any {
		return map[string]any{"issuerRegexp": pattern, "subjectURI": workflow}
	}
	digestOnlyCfg := map[string]any{"signedIdentity": map[string]any{"type": "digestOnly"}}
	for _, tc := range []struct {
		name     string
		identity map[string]any
		extra    map[string]any
		path     string // "" : no warning at all
		msg      string
	}{
		// Subjects that match anything.
		{"subject .+", subject(`.+`), nil, "config.identities[0].subjectRegexp", "any host and any organisation"},
		{"subject (.*)", subject(`(.*)`), nil, "config.identities[0].subjectRegexp", "any host and any organisation"},
		{"subject a|.*", subject(`a|.*`), nil, "config.identities[0].subjectRegexp", "any host and any organisation"},
		{"subject (?s).*", subject(`(?s).*`), nil, "config.identities[0].subjectRegexp", "any host and any organisation"},
		{`subject \S+`, subject(`\S+`), nil, "config.identities[0].subjectRegexp", "any host and any organisation"},
		{"subject https://.+ (any host)", subject(`https://.+`), nil, "config.identities[0].subjectRegexp", "any host"},
		{"subject with any host before a fixed path", subject(`https://[^/]+/org/repo/\.github/workflows/release\.yml@refs/tags/v.*`), nil, "config.identities[0].subjectRegexp", "subjects of any host"},
		// Subjects that match any organisation on the right host.
		{"subject https://github.com/.+", subject(`https://github\.com/.+`), nil, "config.identities[0].subjectRegexp", "any organisation on github.com"},
		{"subject of any organisation's release workflow", subject(`https://github\.com/[^/]+/[^/]+/\.github/workflows/release\.yml@refs/tags/v.*`), nil, "config.identities[0].subjectRegexp", "any organisation on github.com"},
		{"subject of any GitLab group", subject(`https://gitlab\.com/.*`), nil, "config.identities[0].subjectRegexp", "any organisation on gitlab.com"},
		{"email of any domain", subject(`alice@.+`), nil, "config.identities[0].subjectRegexp", "any domain"},
		// Issuers.
		{"issuer .+", issuer(`.+`), nil, "config.identities[0].issuerRegexp", "matches issuers nobody configured"},
		{"issuer https://.+", issuer(`https://.+`), nil, "config.identities[0].issuerRegexp", "matches issuers nobody configured"},
		{"issuer of any EKS cluster anywhere", issuer(`https://oidc\.eks\.[a-z0-9-]+\.amazonaws\.com/id/[A-Z0-9]+`), nil, "config.identities[0].issuerRegexp", "matches issuers nobody configured"},
		{"issuer of any EKS cluster in one region", issuer(`https://oidc\.eks\.eu-west-1\.amazonaws\.com/id/.+`), nil, "config.identities[0].issuerRegexp", "any EKS cluster"},
		{"issuer of any host with a fixed path", issuer(`https://[a-z.]+/realms/ci`), nil, "config.identities[0].issuerRegexp", "issuers of any host"},
		// Exact values that cannot be meant.
		{"an issuer with surrounding spaces", map[string]any{"issuer": " " + ghIssuer + " ", "subjectURI": workflow}, nil, "config.identities[0].issuer", "white space"},
		{"a shorthand oidcIssuer with a trailing space", nil, map[string]any{"fulcio": map[string]any{"oidcIssuer": ghIssuer + " ", "subjectURI": workflow}}, "config.fulcio.oidcIssuer", "white space"},
		{"a subjectEmail without @", map[string]any{"issuer": "https://accounts.google.com", "subjectEmail": "alice.example.com"}, nil, "config.identities[0].subjectEmail", "has no @"},
		{"a subjectURI with regexp syntax", map[string]any{"issuer": ghIssuer, "subjectURI": `https://github\.com/org/repo/.*`}, nil, "config.identities[0].subjectURI", "use subjectRegexp"},
		{"a subjectURI with a character class", map[string]any{"issuer": ghIssuer, "subjectURI": "https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v[0-9]"}, nil, "config.identities[0].subjectURI", "use subjectRegexp"},
		// Reusable workflows under digestOnly.
		{"digestOnly with an unpinned workflow subject", map[string]any{"issuer": ghIssuer, "subjectURI": workflow}, digestOnlyCfg, "config.identities[0]", "reusable workflow"},
		{"requireSCT false with CT logs", map[string]any{"issuer": ghIssuer, "subjectURI": workflow}, map[string]any{"requireSCT": false}, "config.requireSCT", "lists CT logs"},

		// Narrow rules: no warning.
		{"a subject of one repository's tags", subject(`https://github\.com/org/repo/\.github/workflows/release\.yml@refs/tags/v[0-9.]+`), nil, "", ""},
		{"a subject of one organisation's repositories", subject(`https://github\.com/org/[^/]+/\.github/workflows/release\.yml@refs/heads/main`), nil, "", ""},
		{"a subject of one GitLab project's branches", subject(`https://gitlab\.com/group/project//\.gitlab-ci\.yml@refs/heads/.+`), nil, "", ""},
		{"emails of one domain", subject(`[a-z]+@example\.com`), nil, "", ""},
		{"an issuer of two named hosts", issuer(`https://gitlab\.com|https://gitlab\.example\.com`), nil, "", ""},
		{"an issuer of one EKS cluster", issuer(`https://oidc\.eks\.eu-west-1\.amazonaws\.com/id/0123456789ABCDEF`), nil, "", ""},
		{"digestOnly with a pinned workflow subject", map[string]any{"issuer": ghIssuer, "subjectURI": workflow, "extensions": map[string]any{"sourceRepositoryURI": "https://github.com/org/repo"}}, digestOnlyCfg, "", ""},
		{"requireSCT true with CT logs", map[string]any{"issuer": ghIssuer, "subjectURI": workflow}, map[string]any{"requireSCT": true}, "", ""},
		{"an exact email and issuer", map[string]any{"issuer": "https://accounts.google.com", "subjectEmail": "alice@example.com"}, nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := env.trustedRoot()
			delete(cfg, "identities")
			if tc.identity != nil {
				cfg["identities"] = []any{tc.identity}
			}
			for k, v := range tc.extra {
				cfg[k] = v
			}
			_, errs, warnings := ParseConfig(configJSON(t, cfg))
			if len(errs) > 0 {
				t.Fatalf("unexpected errors: %+v", errs)
			}
			if tc.path == "" {
				if len(warnings) > 0 {
					t.Fatalf("a narrow rule warns: %+v", warnings)
				}
				return
			}
			for _, w := range warnings {
				if w.Path == tc.path && strings.Contains(w.Message, tc.msg) {
					return
				}
			}
			t.Fatalf("want a warning at %s containing %q, got %+v", tc.path, tc.msg, warnings)
		})
	}
}
