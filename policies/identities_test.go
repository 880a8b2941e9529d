package policies

import (
	"github.com/policy-plugins/sigstore/internal/fixture"
)

// Signers shaped like the certificates the public Fulcio issues, varied in the
// one field each near miss is about.

// gitlabPipeline is a pipeline of project on the GitLab at issuer (e.g.
// https://gitlab.com), running the project's own .gitlab-ci.yml at ref.
func gitlabPipeline(issuer, project, ref string) fixture.LeafOptions {
	o := fixture.GitLabCI()
	config := issuer + "/" + project + "//.gitlab-ci.yml@" + ref
	o.Issuer, o.IssuerV1, o.URI = issuer, issuer, config
	o.Extensions.BuildSignerURI = config
	o.Extensions.BuildConfigURI = config
	o.Extensions.SourceRepositoryURI = issuer + "/" + project
	o.Extensions.SourceRepositoryRef = ref
	return o
}

// githubWorkflow is repo's own workflow file at ref on GitHub Actions.
func githubWorkflow(repo, workflow, ref string) fixture.LeafOptions {
	o := fixture.GitHubReusableWorkflow()
	uri := "https://github.com/" + repo + "/.github/workflows/" + workflow + "@" + ref
	o.URI = uri
	o.Extensions.BuildSignerURI = uri
	o.Extensions.BuildConfigURI = uri
	o.Extensions.SourceRepositoryURI = "https://github.com/" + repo
	o.Extensions.SourceRepositoryRef = ref
	o.Extensions.GithubWorkflowRepository = repo
	o.Extensions.GithubWorkflowRef = ref
	return o
}

// githubReusable is caller's run (at callerRef) of the reusable workflow
// signer ("org/shared-workflows/.github/workflows/sign.yml@refs/heads/main"):
// the URI subject names the called workflow, sourceRepositoryURI the caller.
func githubReusable(caller, callerRef, signer string) fixture.LeafOptions {
	o := fixture.GitHubReusableWorkflow()
	uri := "https://github.com/" + signer
	o.URI = uri
	o.Extensions.BuildSignerURI = uri
	o.Extensions.SourceRepositoryURI = "https://github.com/" + caller
	o.Extensions.SourceRepositoryRef = callerRef
	o.Extensions.BuildConfigURI = "https://github.com/" + caller + "/.github/workflows/release.yml@" + callerRef
	o.Extensions.GithubWorkflowRepository = caller
	o.Extensions.GithubWorkflowRef = callerRef
	return o
}

// person is someone signing interactively with an email identity.
func person(issuer, email string) fixture.LeafOptions {
	o := fixture.EmailIdentity()
	o.Issuer, o.IssuerV1, o.Email = issuer, issuer, email
	return o
}
