package plugin

import (
	"crypto/sha512"
	"encoding/hex"
	"strings"
	"testing"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"

	"github.com/policy-plugins/sigstore/internal/fixture"
)

// TestReasonsNameWhatWasCompared: a rejection names the value the signature was
// compared with (the configured reference for exactReference and
// exactRepository, the image's reference otherwise), and a message signature's
// digest with the algorithm the bundle states.
func TestReasonsNameWhatWasCompared(t *testing.T) {
	env := newTestEnv(t)
	const configured = "registry.example.com/team/pinned:7"
	for _, tc := range []struct {
		name   string
		si     map[string]any
		want   string
		notHas string
	}{
		{
			name: "exactReference names the configured reference, not the image's",
			si:   map[string]any{"type": "exactReference", "dockerReference": configured},
			want: "signature for " + env.repo + " is not the reference " + configured + " required by signedIdentity exactReference",
			// the image's reference is not what the signature was compared with
			notHas: env.ref,
		},
		{
			name:   "exactRepository names the configured repository",
			si:     map[string]any{"type": "exactRepository", "dockerRepository": "registry.example.com/team/pinned"},
			want:   "signature for " + env.repo + " is not in the repository registry.example.com/team/pinned required by signedIdentity exactRepository",
			notHas: env.ref,
		},
		{
			name: "matchExact names the image's reference",
			si:   map[string]any{"type": "matchExact"},
			want: "signature for " + env.repo + " is not accepted for " + env.ref + " by signedIdentity matchExact",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := env.bundleConfig(map[string]any{"signedIdentity": tc.si})
			sig := env.bundle(t, env.leaf(t, fixture.GitHubReusableWorkflow()), fixture.BundleOptions{ManifestDigest: env.digest, SubjectName: env.repo})
			resp := evaluate(t, env.request(t, cfg, sig))
			verdict{reason: tc.want}.check(t, resp)
			if tc.notHas != "" && strings.Contains(resp.Signatures[0].Reason, tc.notHas) {
				t.Errorf("reason %q names the image's reference %s", resp.Signatures[0].Reason, tc.notHas)
			}
		})
	}

	t.Run("a SHA2-512 message signature's digest is named sha512", func(t *testing.T) {
		// A key bundle without a log entry: sigstore-go compares the digest
		// before anything else (with a log entry, the hashedrekord's sha256
		// algorithm would disagree first).
		key, err := newKeyFile(t)
		if err != nil {
			t.Fatal(err)
		}
		pb := env.bundleProto(t, env.in, key.pair, fixture.BundleOptions{Artifact: env.manifest, NoTlog: true})
		sum := sha512.Sum512(env.manifest)
		pb.GetMessageSignature().MessageDigest = &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_512, Digest: sum[:]}
		cfg := map[string]any{"keyPath": key.path, "signedIdentity": digestOnly}
		resp := evaluate(t, env.request(t, cfg, bundleSignature(t, pb)))
		verdict{reason: "message signature is for digest sha512:" + hex.EncodeToString(sum[:]) + ", not this manifest"}.check(t, resp)
	})
}

func TestDescribeHashOutput(t *testing.T) {
	for _, tc := range []struct {
		alg  protocommon.HashAlgorithm
		want string
	}{
		{protocommon.HashAlgorithm_SHA2_256, "sha256:0a0b"},
		{protocommon.HashAlgorithm_SHA2_384, "sha384:0a0b"},
		{protocommon.HashAlgorithm_SHA2_512, "sha512:0a0b"},
		{protocommon.HashAlgorithm_HASH_ALGORITHM_UNSPECIFIED, "hash_algorithm_unspecified:0a0b"},
	} {
		if got := describeHashOutput(&protocommon.HashOutput{Algorithm: tc.alg, Digest: []byte{10, 11}}); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.alg, got, tc.want)
		}
	}
}
