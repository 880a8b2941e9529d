package policies

import (
	"strings"

	"github.com/policy-plugins/sigstore/internal/fixture"
)

// verifyCase pulls image under one example policy with one signature.
type verifyCase struct {
	name       string
	policy     string // file under policies/
	image      string // what the user pulls
	deployment string // the Sigstore deployment that issued the certificate
	signer     fixture.LeafOptions
	// signedRef is the reference the cosign payload names (cosign writes the
	// repository); "" makes a cosign v3 bundle, which names none.
	signedRef string
	accept    bool
	reason    string // a substring of the verdict's reason
}

const (
	gitlabProject  = "registry.gitlab.com/group/project"
	platformApp    = "registry.example.com/platform/app"
	ghcrApp        = "ghcr.io/org/app"
	quayApp        = "quay.io/example/app"
	bootcOS        = "quay.io/example/os"
	ghcrWeb        = "ghcr.io/org/web"
	sharedWorkflow = "org/shared-workflows/.github/workflows/sign.yml@refs/heads/main"
	releaseManager = "release-manager@example.com"
	githubOAuth    = "https://github.com/login/oauth"
	releaseYML     = "release.yml"
)

// cases exercise every example: for each plugin requirement, a signature of
// the identity it names is accepted and a near miss is rejected. A new policy
// file without cases here fails TestExamplesVerify.
var cases = []verifyCase{
	// gitlab-ci: gitlab.com, main branch or a release tag, full-match regexp.
	{
		"gitlab.com main", "gitlab-ci/policy.json", gitlabProject + ":1.4", public,
		gitlabPipeline("https://gitlab.com", "group/project", "refs/heads/main"), gitlabProject, true, "accepted",
	},
	{
		"gitlab.com release tag", "gitlab-ci/policy.json", gitlabProject + ":1.4.0", public,
		gitlabPipeline("https://gitlab.com", "group/project", "refs/tags/v1.4.0"), gitlabProject, true, "accepted",
	},
	{
		"gitlab.com branch that only starts with main", "gitlab-ci/policy.json", gitlabProject + ":1.4", public,
		gitlabPipeline("https://gitlab.com", "group/project", "refs/heads/main-unreviewed"), gitlabProject, false, "matches no identity",
	},
	{
		"gitlab.com fork of the project", "gitlab-ci/policy.json", gitlabProject + ":1.4", public,
		gitlabPipeline("https://gitlab.com", "group/project-fork", "refs/heads/main"), gitlabProject, false, "matches no identity",
	},
	// gitlab-ci: self-managed instances through issuerRegexp, private deployment.
	{
		"self-managed eu instance", "gitlab-ci/policy.json", platformApp + ":2.0", private,
		gitlabPipeline("https://gitlab.eu.example.com", "platform/app", "refs/heads/main"), platformApp, true, "accepted",
	},
	{
		"self-managed us instance", "gitlab-ci/policy.json", platformApp + ":2.0", private,
		gitlabPipeline("https://gitlab.us.example.com", "platform/app", "refs/heads/main"), platformApp, true, "accepted",
	},
	{
		"self-managed lookalike issuer", "gitlab-ci/policy.json", platformApp + ":2.0", private,
		gitlabPipeline("https://gitlab.eu.example.com.evil.test", "platform/app", "refs/heads/main"), platformApp, false, "matches no identity",
	},
	{
		"self-managed identity from the public deployment", "gitlab-ci/policy.json", platformApp + ":2.0", public,
		gitlabPipeline("https://gitlab.eu.example.com", "platform/app", "refs/heads/main"), platformApp, false, "not a trusted transparency log",
	},

	// github-actions: a reusable workflow, pinned to the calling repository.
	{
		"reusable workflow called by org/app", "github-actions/policy.json", ghcrApp + ":1.2.0", public,
		githubReusable("org/app", "refs/heads/main", sharedWorkflow), ghcrApp, true, "accepted",
	},
	{
		"reusable workflow called by another repository", "github-actions/policy.json", ghcrApp + ":1.2.0", public,
		githubReusable("org/other-app", "refs/heads/main", sharedWorkflow), ghcrApp, false, "sourceRepositoryURI",
	},
	{
		"reusable workflow run from a pull request", "github-actions/policy.json", ghcrApp + ":1.2.0", public,
		githubReusable("org/app", "refs/pull/7/merge", sharedWorkflow), ghcrApp, false, "sourceRepositoryRef",
	},

	// cosign-v3-bundles: bundles name no image; digestOnly accepts them.
	{
		"cosign v3 bundle from a release tag", "cosign-v3-bundles/policy.json", ghcrApp + ":1.2.0", public,
		githubWorkflow("org/app", releaseYML, "refs/tags/v1.2.0"), "", true, "accepted",
	},
	{
		"cosign v3 bundle from a pre-release tag", "cosign-v3-bundles/policy.json", ghcrApp + ":1.2.0-rc1", public,
		githubWorkflow("org/app", releaseYML, "refs/tags/v1.2.0-rc1"), "", false, "matches no identity",
	},
	// The risk digestOnly accepts, shown: a signature naming another image
	// is accepted for this one when the digest matches.
	{
		"digestOnly ignores the name a signature gives", "cosign-v3-bundles/policy.json", ghcrApp + ":1.2.0", public,
		githubWorkflow("org/app", releaseYML, "refs/tags/v1.2.0"), "ghcr.io/org/debug-tools", true, "accepted",
	},

	// migrate-sigstoresigned: the block moved unchanged, then email to URI.
	{
		"moved block, release manager", "migrate-sigstoresigned/step1-moved.json", quayApp + ":3.1", public,
		person(githubOAuth, releaseManager), quayApp, true, "accepted",
	},
	{
		"moved block, someone else", "migrate-sigstoresigned/step1-moved.json", quayApp + ":3.1", public,
		person(githubOAuth, "intern@example.com"), quayApp, false, "matches no identity",
	},
	{
		"moved block, CI not yet trusted", "migrate-sigstoresigned/step1-moved.json", quayApp + ":3.1", public,
		githubWorkflow("example/app", releaseYML, "refs/heads/main"), quayApp, false, "matches no identity",
	},
	{
		"transition, release manager", "migrate-sigstoresigned/step2-both.json", quayApp + ":3.1", public,
		person(githubOAuth, releaseManager), quayApp, true, "accepted",
	},
	{
		"transition, CI", "migrate-sigstoresigned/step2-both.json", quayApp + ":3.1", public,
		githubWorkflow("example/app", releaseYML, "refs/heads/main"), quayApp, true, "accepted",
	},
	{
		"transition, CI of another repository", "migrate-sigstoresigned/step2-both.json", quayApp + ":3.1", public,
		githubWorkflow("example/app-fork", releaseYML, "refs/heads/main"), quayApp, false, "matches no identity",
	},
	{
		"URI only, CI", "migrate-sigstoresigned/step3-uri.json", quayApp + ":3.1", public,
		githubWorkflow("example/app", releaseYML, "refs/heads/main"), quayApp, true, "accepted",
	},
	{
		"URI only, release manager retired", "migrate-sigstoresigned/step3-uri.json", quayApp + ":3.1", public,
		person(githubOAuth, releaseManager), quayApp, false, "matches no identity",
	},

	// buildx: the index docker buildx pushes (the image and a provenance
	// attestation manifest), signed at the index (indexLayouts).
	{
		"buildx index signed on main", "buildx/policy.json", ghcrWeb + ":latest", public,
		githubWorkflow("org/web", releaseYML, "refs/heads/main"), ghcrWeb, true, "accepted through its index",
	},
	{
		"buildx index signed from another branch", "buildx/policy.json", ghcrWeb + ":latest", public,
		githubWorkflow("org/web", releaseYML, "refs/heads/dev"), ghcrWeb, false, "matches no identity",
	},
	{
		"buildx index that does not list the instance", "buildx/policy.json", ghcrWeb + ":latest", public,
		githubWorkflow("org/web", releaseYML, "refs/heads/main"), ghcrWeb, false, "does not list this instance",
	},
	{
		"buildx instance pulled by its digest", "buildx/policy.json", ghcrWeb + "@sha256:" + strings.Repeat("0", 64), public,
		githubWorkflow("org/web", releaseYML, "refs/heads/main"), ghcrWeb, false, "no signatures",
	},

	// bootc: the OS image's build workflow on main.
	{
		"bootc image from main", "bootc/policy.json", bootcOS + ":stable", public,
		githubWorkflow("example/os", "build.yml", "refs/heads/main"), bootcOS, true, "accepted",
	},
	{
		"bootc image from a pull request", "bootc/policy.json", bootcOS + ":stable", public,
		githubWorkflow("example/os", "build.yml", "refs/pull/42/merge"), bootcOS, false, "matches no identity",
	},
}

// indexLayouts say how a case's image comes from an index, for the cases
// whose signature is the index's: "listed", the host sends the index
// (image.index) with the signature, and the index lists the image;
// "unlisted", the same but the signed index lists another image;
// "instance-digest", the image is pulled by its own digest, so the host sends
// no index and the index's signature does not reach the plugin.
var indexLayouts = map[string]string{
	"buildx index signed on main":                  "listed",
	"buildx index signed from another branch":      "listed",
	"buildx index that does not list the instance": "unlisted",
	"buildx instance pulled by its digest":         "instance-digest",
}
