package plugin

import (
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

const (
	gitlabIssuer = "https://gitlab.com"
	gitlabURI    = "https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main"
	githubIssuer = "https://token.actions.githubusercontent.com"
	githubSigner = "https://github.com/org/shared-workflows/.github/workflows/sign.yml@refs/heads/main"
)

// withURI is the GitLab scenario with another URI SAN: what an attacker who controls
// some other project or host can get Fulcio to certify.
func withURI(uri string) fixture.LeafOptions {
	opts := fixture.GitLabCI()
	opts.URI = uri
	return opts
}

func TestIdentityMatching(t *testing.T) {
	env := newTestEnv(t)
	gitlab := fixture.GitLabCI()
	for _, tc := range []struct {
		name       string
		cert       fixture.LeafOptions
		identities []map[string]any
		accept     bool
		reason     string // a part of the signature's reason
	}{
		{
			name:       "an exact subjectURI accepts the GitLab CI certificate",
			cert:       gitlab,
			identities: []map[string]any{{"issuer": gitlabIssuer, "subjectURI": gitlabURI}},
			accept:     true,
		},
		{
			name:       "an anchored subjectRegexp accepts it",
			cert:       gitlab,
			identities: []map[string]any{{"issuer": gitlabIssuer, "subjectRegexp": `https://gitlab\.com/group/project//\.gitlab-ci\.yml@refs/(heads/main|tags/v[0-9.]+)`}},
			accept:     true,
		},
		{
			name:       "a regexp covering only a prefix of the subject rejects (full match)",
			cert:       gitlab,
			identities: []map[string]any{{"issuer": gitlabIssuer, "subjectRegexp": `https://gitlab\.com/group/project`}},
			reason:     "no SAN matches subjectRegexp",
		},
		{
			name:       "a sibling project sharing the prefix is not the project",
			cert:       withURI("https://gitlab.com/group/platform-evil//.gitlab-ci.yml@refs/heads/main"),
			identities: []map[string]any{{"issuer": gitlabIssuer, "subjectRegexp": `https://gitlab\.com/group/platform/.*`}},
			reason:     "no SAN matches subjectRegexp",
		},
		{
			name:       "a URL embedding the trusted subject in its query rejects",
			cert:       withURI("https://evil.example/?x=" + gitlabURI),
			identities: []map[string]any{{"issuer": gitlabIssuer, "subjectRegexp": `https://gitlab\.com/group/project//\.gitlab-ci\.yml@refs/heads/.*`}},
			reason:     "no SAN matches subjectRegexp",
		},
		{
			name:       "a URL embedding the trusted subject does not equal it either",
			cert:       withURI("https://evil.example/?x=" + gitlabURI),
			identities: []map[string]any{{"issuer": gitlabIssuer, "subjectURI": gitlabURI}},
			reason:     "no URI SAN " + gitlabURI,
		},
		{
			name:       "an escaped dot does not match another character",
			cert:       withURI("https://gitlabxcom/group/project//.gitlab-ci.yml@refs/heads/main"),
			identities: []map[string]any{{"issuer": gitlabIssuer, "subjectRegexp": `https://gitlab\.com/group/project//.*`}},
			reason:     "no SAN matches subjectRegexp",
		},
		{
			name:       "a subjectURI without the scheme does not match",
			cert:       gitlab,
			identities: []map[string]any{{"issuer": gitlabIssuer, "subjectURI": "gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main"}},
			reason:     "no URI SAN gitlab.com/group/project",
		},
		{
			name:       "a subjectRegexp without the scheme does not match",
			cert:       gitlab,
			identities: []map[string]any{{"issuer": gitlabIssuer, "subjectRegexp": `gitlab\.com/group/project//.*`}},
			reason:     "no SAN matches subjectRegexp",
		},
		{
			name:       "another issuer rejects",
			cert:       gitlab,
			identities: []map[string]any{{"issuer": githubIssuer, "subjectURI": gitlabURI}},
			reason:     "issuer is not " + githubIssuer,
		},
		{
			name:       "an issuerRegexp accepts gitlab.com among self-managed instances",
			cert:       gitlab,
			identities: []map[string]any{{"issuerRegexp": `https://gitlab\.(com|example\.org)`, "subjectURI": gitlabURI}},
			accept:     true,
		},
		{
			name:       "an issuerRegexp for a self-managed instance rejects gitlab.com",
			cert:       gitlab,
			identities: []map[string]any{{"issuerRegexp": `https://gitlab\.example\.org`, "subjectRegexp": `https://gitlab\.com/.*`}},
			reason:     "issuer does not match issuerRegexp",
		},
		{
			name: "an extension pin that matches accepts",
			cert: gitlab,
			identities: []map[string]any{{"issuer": gitlabIssuer, "subjectURI": gitlabURI, "extensions": map[string]any{
				"sourceRepositoryURI": "https://gitlab.com/group/project", "sourceRepositoryRef": "refs/heads/main", "runnerEnvironment": "gitlab-hosted",
			}}},
			accept: true,
		},
		{
			name: "an extension pin that differs rejects",
			cert: gitlab,
			identities: []map[string]any{{"issuer": gitlabIssuer, "subjectURI": gitlabURI, "extensions": map[string]any{
				"runnerEnvironment": "self-hosted",
			}}},
			reason: "extension runnerEnvironment is gitlab-hosted, not self-hosted",
		},
		{
			name: "an extension pin the certificate lacks rejects",
			cert: gitlab,
			identities: []map[string]any{{"issuer": gitlabIssuer, "subjectURI": gitlabURI, "extensions": map[string]any{
				"deploymentEnvironment": "production",
			}}},
			reason: "certificate has no deploymentEnvironment extension",
		},
		{
			name: "any one of several identities is enough",
			cert: gitlab,
			identities: []map[string]any{
				{"issuer": githubIssuer, "subjectURI": githubSigner},
				{"issuer": gitlabIssuer, "subjectURI": gitlabURI},
			},
			accept: true,
		},
		{
			name: "when none of several identities matches, each says why",
			cert: gitlab,
			identities: []map[string]any{
				{"issuer": githubIssuer, "subjectURI": githubSigner},
				{"issuer": gitlabIssuer, "subjectURI": "https://gitlab.com/group/other//.gitlab-ci.yml@refs/heads/main"},
			},
			reason: "config.identities[0]: issuer is not " + githubIssuer + "; config.identities[1]: no URI SAN",
		},
		{
			name: "a reusable GitHub workflow is accepted by the called workflow and the caller's repository",
			cert: fixture.GitHubReusableWorkflow(),
			identities: []map[string]any{{"issuer": githubIssuer, "subjectURI": githubSigner, "extensions": map[string]any{
				"sourceRepositoryURI": "https://github.com/org/app",
			}}},
			accept: true,
		},
		{
			name: "the same reusable workflow run from another repository rejects",
			cert: fixture.GitHubReusableWorkflow(),
			identities: []map[string]any{{"issuer": githubIssuer, "subjectURI": githubSigner, "extensions": map[string]any{
				"sourceRepositoryURI": "https://github.com/org/other-app",
			}}},
			reason: "extension sourceRepositoryURI is https://github.com/org/app, not https://github.com/org/other-app",
		},
		{
			name:       "an email identity accepts by subjectEmail",
			cert:       fixture.EmailIdentity(),
			identities: []map[string]any{{"issuer": "https://accounts.google.com", "subjectEmail": "alice@example.com"}},
			accept:     true,
		},
		{
			name:       "an email is not a URI",
			cert:       fixture.EmailIdentity(),
			identities: []map[string]any{{"issuer": "https://accounts.google.com", "subjectURI": "alice@example.com"}},
			reason:     "no URI SAN alice@example.com",
		},
		{
			name:       "a subjectRegexp also matches an otherName username",
			cert:       fixture.UsernameIdentity(),
			identities: []map[string]any{{"issuerRegexp": `https://accounts\.example\.com`, "subjectRegexp": fixture.UsernameIdentity().OtherName}},
			accept:     true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig := env.legacy(t, env.leaf(t, tc.cert), env.ref, fixture.LegacyOptions{})
			resp := evaluate(t, env.request(t, env.trustedRoot(tc.identities...), sig))
			if got := resp.Verdict == protocol.VerdictAccept; got != tc.accept {
				t.Fatalf("verdict %s, want accept=%v; reason: %s", resp.Verdict, tc.accept, resp.Reason)
			}
			if !tc.accept && !strings.Contains(resp.Signatures[0].Reason, tc.reason) {
				t.Fatalf("reason %q does not contain %q", resp.Signatures[0].Reason, tc.reason)
			}
			if tc.accept && (resp.Accepted.Subject == nil || *resp.Accepted.Subject == "") {
				t.Fatalf("accepted without a subject: %+v", resp.Accepted)
			}
		})
	}
}
