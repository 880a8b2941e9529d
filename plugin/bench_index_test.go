package plugin

import (
	"testing"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/manifest"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

// BenchmarkVerifyIndex is one whole verify (config and trust loaded, as in one
// plugin process) of the same keyless signature, on the instance without an
// index, on the instance with its index sent along, and on the index alone
// (an index-signed multi-arch image): the index costs its digest, a second
// pass of the same verification, and reading the index's listing.
func BenchmarkVerifyIndex(b *testing.B) {
	env := newTestEnv(b)
	f := newIndexFixtures(b, env)
	leaf := env.leaf(b, fixture.GitLabCI())
	cfg := env.trustedRoot(map[string]any{"issuer": gitlabIssuer, "subjectURI": gitlabURI})
	cfg["signedIdentity"] = map[string]any{"type": "matchRepository"}
	sign := func(m []byte) protocol.Signature {
		sig, err := env.in.SignLegacy(leaf, fixture.CosignPayload(env.repo, digestOf(b, m)), fixture.LegacyOptions{})
		if err != nil {
			b.Fatal(err)
		}
		return protocol.Signature{Format: protocol.FormatSigstoreJSON, MIMEType: sig.MIMEType, Payload: sig.Payload, Annotations: sig.Annotations}
	}
	instanceSig, indexSig := sign(env.manifest), sign(f.multiArch)
	b.Run("instance signed, no index", func(b *testing.B) {
		benchmarkEvaluate(b, env.request(b, cfg, instanceSig))
	})
	b.Run("instance signed, index sent along", func(b *testing.B) {
		benchmarkEvaluate(b, withIndex(env.request(b, cfg, instanceSig), f.multiArch, ociIndexType, indexSig))
	})
	b.Run("index signed, instance not", func(b *testing.B) {
		req := withIndex(env.request(b, cfg), f.multiArch, ociIndexType, indexSig)
		req.Signatures = []protocol.Signature{}
		benchmarkEvaluate(b, req)
	})
}

// BenchmarkReadListing is the index's own step alone: strict JSON, the media
// type, containers/image's list parser and the lookup, on a multi-arch index.
func BenchmarkReadListing(b *testing.B) {
	env := newTestEnv(b)
	f := newIndexFixtures(b, env)
	indexDigest, instance := digestFor(b, f.multiArch), digestFor(b, env.manifest)
	b.ReportAllocs()
	for b.Loop() {
		if err := readListing(f.multiArch, indexDigest, instance); err != nil {
			b.Fatal(err)
		}
	}
}

func digestFor(b *testing.B, m []byte) digest.Digest {
	d, err := manifest.Digest(m)
	if err != nil {
		b.Fatal(err)
	}
	return d
}
