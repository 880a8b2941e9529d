package plugin

import (
	"testing"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

const testDigest = "sha256:0489474da8ea22426ece86ace6c1c0026ab2fd3cdfbbd62b7e94650266c37d9a"

func TestSignedIdentityMatches(t *testing.T) {
	const (
		tagged   = "example.com/ns/repo:1.4"
		byDigest = "example.com/ns/repo@" + testDigest
		both     = "example.com/ns/repo:1.4@" + testDigest
	)
	exactRef := signedIdentity{kind: signedIdentityExactReference, dockerReference: tagged}
	exactRepo := signedIdentity{kind: signedIdentityExactRepository, dockerRepository: "example.com/ns/repo"}
	remap := signedIdentity{kind: signedIdentityRemapIdentity, prefix: "mirror.example.com/ns", signedPrefix: "example.com/upstream"}
	for _, tc := range []struct {
		name   string
		si     signedIdentity
		image  *string
		signed string
		want   bool
	}{
		{"matchExact accepts the same tag", signedIdentity{kind: signedIdentityMatchExact}, strPtr(tagged), tagged, true},
		{"matchExact normalizes docker.io names", signedIdentity{kind: signedIdentityMatchExact}, strPtr("docker.io/library/busybox:latest"), "busybox:latest", true},
		{"matchExact rejects another tag", signedIdentity{kind: signedIdentityMatchExact}, strPtr(tagged), "example.com/ns/repo:1.5", false},
		{"matchExact rejects a repository-only signature", signedIdentity{kind: signedIdentityMatchExact}, strPtr(tagged), "example.com/ns/repo", false},
		{"matchExact rejects a tag for an image pulled by digest", signedIdentity{kind: signedIdentityMatchExact}, strPtr(byDigest), tagged, false},
		{"matchExact accepts the same digest", signedIdentity{kind: signedIdentityMatchExact}, strPtr(byDigest), byDigest, true},
		{"matchExact rejects an image without a reference", signedIdentity{kind: signedIdentityMatchExact}, nil, tagged, false},
		{"matchExact rejects an unparseable signed reference", signedIdentity{kind: signedIdentityMatchExact}, strPtr(tagged), "Example.com/NS/repo:1.4", false},

		{"matchRepoDigestOrExact accepts the same tag", signedIdentity{kind: signedIdentityMatchRepoDigestOrExact}, strPtr(tagged), tagged, true},
		{"matchRepoDigestOrExact rejects another tag", signedIdentity{kind: signedIdentityMatchRepoDigestOrExact}, strPtr(tagged), "example.com/ns/repo:latest", false},
		{"matchRepoDigestOrExact rejects a repository-only signature for a tag", signedIdentity{kind: signedIdentityMatchRepoDigestOrExact}, strPtr(tagged), "example.com/ns/repo", false},
		{"matchRepoDigestOrExact accepts any tag of the repository for a digest", signedIdentity{kind: signedIdentityMatchRepoDigestOrExact}, strPtr(byDigest), "example.com/ns/repo:anything", true},
		{"matchRepoDigestOrExact rejects a repository-only signature for a digest", signedIdentity{kind: signedIdentityMatchRepoDigestOrExact}, strPtr(byDigest), "example.com/ns/repo", false},
		{"matchRepoDigestOrExact rejects another repository for a digest", signedIdentity{kind: signedIdentityMatchRepoDigestOrExact}, strPtr(byDigest), "example.com/ns/other:1.4", false},
		{"matchRepoDigestOrExact treats tag+digest as a tag", signedIdentity{kind: signedIdentityMatchRepoDigestOrExact}, strPtr(both), tagged, false},
		{"matchRepoDigestOrExact accepts tag+digest signed exactly", signedIdentity{kind: signedIdentityMatchRepoDigestOrExact}, strPtr(both), both, true},
		{"matchRepoDigestOrExact rejects a name-only image", signedIdentity{kind: signedIdentityMatchRepoDigestOrExact}, strPtr("example.com/ns/repo"), tagged, false},
		{"matchRepoDigestOrExact rejects an image without a reference", signedIdentity{kind: signedIdentityMatchRepoDigestOrExact}, nil, tagged, false},

		{"matchRepository accepts a repository-only signature", signedIdentity{kind: signedIdentityMatchRepository}, strPtr(tagged), "example.com/ns/repo", true},
		{"matchRepository accepts another tag", signedIdentity{kind: signedIdentityMatchRepository}, strPtr(tagged), "example.com/ns/repo:2.0", true},
		{"matchRepository rejects another repository", signedIdentity{kind: signedIdentityMatchRepository}, strPtr(tagged), "example.com/ns/repo2", false},
		{"matchRepository rejects another registry", signedIdentity{kind: signedIdentityMatchRepository}, strPtr(tagged), "example.org/ns/repo", false},
		{"matchRepository rejects an image without a reference", signedIdentity{kind: signedIdentityMatchRepository}, nil, "example.com/ns/repo", false},

		{"exactReference accepts exactly its reference", exactRef, strPtr("other.example/x:1"), tagged, true},
		{"exactReference ignores the image reference, even a missing one", exactRef, nil, tagged, true},
		{"exactReference rejects another tag", exactRef, strPtr(tagged), "example.com/ns/repo:1.5", false},
		{"exactReference rejects a repository-only signature", exactRef, strPtr(tagged), "example.com/ns/repo", false},

		{"exactRepository accepts any tag of its repository", exactRepo, nil, "example.com/ns/repo:9", true},
		{"exactRepository accepts a repository-only signature", exactRepo, strPtr(tagged), "example.com/ns/repo", true},
		{"exactRepository rejects another repository", exactRepo, strPtr(tagged), "example.com/ns/other", false},

		{"remapIdentity maps a mirror to the signed upstream", remap, strPtr("mirror.example.com/ns/repo:1.4"), "example.com/upstream/repo:1.4", true},
		{"remapIdentity rejects the mirror's own name once remapped", remap, strPtr("mirror.example.com/ns/repo:1.4"), "mirror.example.com/ns/repo:1.4", false},
		{"remapIdentity remaps the prefix itself", remap, strPtr("mirror.example.com/ns:1.4"), "example.com/upstream:1.4", true},
		{"remapIdentity does not remap a longer path segment", remap, strPtr("mirror.example.com/nsfoo/repo:1.4"), "example.com/upstreamfoo/repo:1.4", false},
		{"remapIdentity leaves other images as matchRepoDigestOrExact does", remap, strPtr("other.example.com/x/repo:1.4"), "other.example.com/x/repo:1.4", true},
		{"remapIdentity keeps digest semantics after remapping", remap, strPtr("mirror.example.com/ns/repo@" + testDigest), "example.com/upstream/repo:any", true},
		{"remapIdentity rejects an image without a reference", remap, nil, "example.com/upstream/repo:1.4", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.si.matches(tc.image, tc.signed); got != tc.want {
				t.Fatalf("matches(%v, %q) = %v, want %v", deref(tc.image), tc.signed, got, tc.want)
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestSignedIdentityThroughEvaluate(t *testing.T) {
	env := newTestEnv(t)
	leaf := env.leaf(t, fixture.GitLabCI())
	gitlab := map[string]any{"issuer": gitlabIssuer, "subjectURI": gitlabURI}
	for _, tc := range []struct {
		name      string
		signedRef string
		si        map[string]any // nil: the default
		accept    bool
	}{
		{"a tag signature accepts under the default", env.ref, nil, true},
		{"cosign's repository-only reference rejects under the default", env.repo, nil, false},
		{"cosign's repository-only reference accepts under matchRepository", env.repo, map[string]any{"type": "matchRepository"}, true},
		{"another repository rejects under matchRepository", "registry.example.com/team/other", map[string]any{"type": "matchRepository"}, false},
		{"any reference accepts under digestOnly", "elsewhere.example/whatever", map[string]any{"type": "digestOnly"}, true},
		{"exactReference accepts its own reference", "registry.example.com/team/app:release", map[string]any{"type": "exactReference", "dockerReference": "registry.example.com/team/app:release"}, true},
		{"remapIdentity accepts the upstream name", "upstream.example.com/team/app:1.4", map[string]any{"type": "remapIdentity", "prefix": "registry.example.com", "signedPrefix": "upstream.example.com"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := env.trustedRoot(gitlab)
			if tc.si != nil {
				cfg["signedIdentity"] = tc.si
			}
			resp := evaluate(t, env.request(t, cfg, env.legacy(t, leaf, tc.signedRef, fixture.LegacyOptions{})))
			if got := resp.Verdict == protocol.VerdictAccept; got != tc.accept {
				t.Fatalf("verdict %s, want accept=%v: %s", resp.Verdict, tc.accept, resp.Reason)
			}
			if tc.accept && *resp.Accepted.SignedReference != tc.signedRef {
				t.Fatalf("signedReference %q, want %q", *resp.Accepted.SignedReference, tc.signedRef)
			}
		})
	}
}
