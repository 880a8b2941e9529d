package plugin

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/manifest"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// Index-signed images (containers-policy-plugin(5), VerifyRequest, image.index):
// generated fixtures for every sentence of the rule, and the hostile variants.

const (
	ociIndexType   = "application/vnd.oci.image.index.v1+json"
	dockerListType = "application/vnd.docker.distribution.manifest.list.v2+json"
	ociImageType   = "application/vnd.oci.image.manifest.v1+json"
)

// listEntry is one manifests[] entry of a list, as raw JSON.
func listEntry(mediaType, digest string, size int, platform string) string {
	return fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":%d,"platform":%s}`, mediaType, digest, size, platform)
}

const (
	amd64   = `{"architecture":"amd64","os":"linux"}`
	arm64   = `{"architecture":"arm64","os":"linux","variant":"v8"}`
	unknown = `{"architecture":"unknown","os":"unknown"}`
)

// list is a manifest list or image index of this media type with these entries.
func list(mediaType string, entries ...string) []byte {
	return []byte(`{"schemaVersion":2,"mediaType":"` + mediaType + `","manifests":[` + strings.Join(entries, ",") + `]}`)
}

func digestOf(t testing.TB, m []byte) string {
	t.Helper()
	d, err := fixture.ManifestDigest(m)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// indexFixtures are the manifests of the tests: the env's image (the instance),
// the lists that name it, and others.
type indexFixtures struct {
	instance, instanceDigest string
	other                    []byte // another platform's image
	otherDigest              string
	attestation              []byte // a buildx provenance attestation manifest
	multiArch                []byte // OCI index: instance, other
	buildx                   []byte // OCI index: instance, attestation (unknown/unknown)
	dockerList               []byte // Docker manifest list: instance, other
	notListing               []byte // OCI index: other only
	alsoListing              []byte // another OCI index that lists the instance too
	nested                   []byte // OCI index naming multiArch, not the instance
	upperCase                []byte // the instance's digest in upper case
	sha512                   []byte // the instance's sha512 digest
	duplicateManifests       []byte // two "manifests" keys, the second naming the instance
	caseManifests            []byte // "manifests" and "Manifests"
	caseDigest               []byte // an entry with "digest" and "Digest"
}

func newIndexFixtures(t testing.TB, env *testEnv) *indexFixtures {
	f := &indexFixtures{instance: string(env.manifest), instanceDigest: env.digest}
	n := len(env.manifest)
	f.other = fixture.OCIManifest("app-arm64")
	f.otherDigest = digestOf(t, f.other)
	f.attestation = fixture.OCIManifest("app-attestation")
	self := listEntry(ociImageType, env.digest, n, amd64)
	other := listEntry(ociImageType, f.otherDigest, len(f.other), arm64)
	f.multiArch = list(ociIndexType, self, other)
	f.buildx = list(ociIndexType, self, listEntry(ociImageType, digestOf(t, f.attestation), len(f.attestation), unknown))
	f.dockerList = list(dockerListType,
		listEntry("application/vnd.docker.distribution.manifest.v2+json", env.digest, n, amd64),
		listEntry("application/vnd.docker.distribution.manifest.v2+json", f.otherDigest, len(f.other), arm64))
	f.notListing = list(ociIndexType, other)
	f.alsoListing = list(ociIndexType, other, self)
	f.nested = list(ociIndexType, listEntry(ociIndexType, digestOf(t, f.multiArch), len(f.multiArch), amd64))
	hexDigest := strings.TrimPrefix(env.digest, "sha256:")
	f.upperCase = list(ociIndexType, listEntry(ociImageType, "sha256:"+strings.ToUpper(hexDigest), n, amd64))
	sum := sha512.Sum512(env.manifest)
	f.sha512 = list(ociIndexType, listEntry(ociImageType, "sha512:"+hex.EncodeToString(sum[:]), n, amd64))
	f.duplicateManifests = []byte(`{"schemaVersion":2,"mediaType":"` + ociIndexType + `","manifests":[` + other + `],"manifests":[` + self + `]}`)
	f.caseManifests = []byte(`{"schemaVersion":2,"mediaType":"` + ociIndexType + `","manifests":[` + other + `],"Manifests":[` + self + `]}`)
	f.caseDigest = list(ociIndexType, fmt.Sprintf(`{"mediaType":%q,"digest":%q,"Digest":%q,"size":%d}`, ociImageType, f.otherDigest, env.digest, n))
	return f
}

// withIndex is req with image.index set.
func withIndex(req *protocol.VerifyRequest, index []byte, mimeType string, sigs ...protocol.Signature) *protocol.VerifyRequest {
	if sigs == nil {
		sigs = []protocol.Signature{}
	}
	req.Image.Index = &protocol.Index{Manifest: index, ManifestMIMEType: mimeType, Signatures: sigs}
	return req
}

// indexVerdict is what a test expects of a request with an index.
type indexVerdict struct {
	accept    bool
	via       string // accepted.via
	signature int    // accepted.signature
	signed    string // accepted.signedReference; "" is null
	reason    string // the verdict's reason starts with this
	contains  string // and contains this
	// image and index are parts of the reasons of signatures[i] and
	// indexSignatures[i].
	image, index []string
}

func (v indexVerdict) check(t *testing.T, req *protocol.VerifyRequest, resp *protocol.VerifyResponse) {
	t.Helper()
	if got := resp.Verdict == protocol.VerdictAccept; got != v.accept {
		t.Fatalf("verdict %s, want accept=%v: %s", resp.Verdict, v.accept, resp.Reason)
	}
	if !strings.HasPrefix(resp.Reason, v.reason) || !strings.Contains(resp.Reason, v.contains) {
		t.Fatalf("reason %q, want it to start with %q and contain %q", resp.Reason, v.reason, v.contains)
	}
	if strings.ContainsAny(resp.Reason, "\r\n") {
		t.Fatalf("reason on more than one line: %q", resp.Reason)
	}
	if resp.ManifestDigest != protocol.ManifestDigest(req.Image.Manifest) {
		t.Fatalf("manifestDigest %s", resp.ManifestDigest)
	}
	if req.Image.Index == nil {
		if resp.IndexDigest != "" || resp.IndexSignatures != nil {
			t.Fatalf("indexDigest %q, indexSignatures %v without an index", resp.IndexDigest, resp.IndexSignatures)
		}
	} else {
		if resp.IndexDigest != protocol.ManifestDigest(req.Image.Index.Manifest) {
			t.Fatalf("indexDigest %s, want %s", resp.IndexDigest, protocol.ManifestDigest(req.Image.Index.Manifest))
		}
		if resp.IndexSignatures == nil || len(resp.IndexSignatures) != len(req.Image.Index.Signatures) {
			t.Fatalf("%d index results for %d index signatures", len(resp.IndexSignatures), len(req.Image.Index.Signatures))
		}
		// The rule's promise: an image whose index is signed is never said
		// to have no signatures.
		if len(req.Image.Index.Signatures) > 0 && strings.Contains(resp.Reason, "no signatures") {
			t.Fatalf("reason %q says no signatures of an image whose index is signed", resp.Reason)
		}
	}
	if v.accept {
		a := resp.Accepted
		if a.Via != v.via || a.Signature != v.signature {
			t.Fatalf("accepted via %s signature %d, want via %s signature %d", a.Via, a.Signature, v.via, v.signature)
		}
		if got := deref(a.SignedReference); (v.signed == "" && got != "<nil>") || (v.signed != "" && got != v.signed) {
			t.Fatalf("signedReference %s, want %q", got, v.signed)
		}
	}
	checkResults := func(what string, results []protocol.SignatureResult, want []string) {
		t.Helper()
		for i, part := range want {
			if i >= len(results) || !strings.Contains(results[i].Reason, part) {
				t.Fatalf("%s: %+v, want [%d] to contain %q", what, results, i, part)
			}
		}
	}
	checkResults("signatures", resp.Signatures, v.image)
	checkResults("indexSignatures", resp.IndexSignatures, v.index)
}

func TestIndexSignatures(t *testing.T) {
	env := newTestEnv(t)
	f := newIndexFixtures(t, env)
	key, err := newKeyFile(t)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := newKeyFile(t)
	if err != nil {
		t.Fatal(err)
	}
	keyID := keyID(t, key.pair)
	matchRepository := map[string]any{"type": "matchRepository"}
	keyConfig := map[string]any{"keyPath": key.path, "signedIdentity": matchRepository}
	keyDigestOnly := map[string]any{"keyPath": key.path, "signedIdentity": digestOnly}
	gitlabConfig := env.trustedRoot(map[string]any{"issuer": gitlabIssuer, "subjectURI": gitlabURI})
	gitlabConfig["signedIdentity"] = matchRepository
	bundleDigestOnly := env.bundleConfig(map[string]any{"signedIdentity": digestOnly})
	bundleDefault := env.bundleConfig(nil)

	gitlab := env.leaf(t, fixture.GitLabCI())
	github := env.leaf(t, fixture.GitHubReusableWorkflow())
	email := env.leaf(t, fixture.EmailIdentity())
	// legacy signs manifest m for ref, as cosign sign does.
	legacy := func(signer fixture.Signer, ref string, m []byte) protocol.Signature {
		t.Helper()
		sig, err := env.in.SignLegacy(signer, fixture.CosignPayload(ref, digestOf(t, m)), fixture.LegacyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return protocol.Signature{Format: protocol.FormatSigstoreJSON, MIMEType: sig.MIMEType, Payload: sig.Payload, Annotations: sig.Annotations}
	}
	// bundle signs manifest m as cosign v3 does: its digest, no name.
	bundle := func(signer fixture.Signer, m []byte) protocol.Signature {
		t.Helper()
		return env.bundle(t, signer, fixture.BundleOptions{ManifestDigest: digestOf(t, m)})
	}
	instanceSig := legacy(key.pair, env.repo, env.manifest)
	multiArchSig := legacy(key.pair, env.repo, f.multiArch)
	multiArchDigest := digestOf(t, f.multiArch)
	notListed := fmt.Sprintf("the signed index %%s does not list this instance (%s)", env.digest)

	for _, tc := range []struct {
		name     string
		cfg      map[string]any
		sigs     []protocol.Signature
		index    []byte // nil: no image.index
		mimeType string
		indexSig []protocol.Signature
		want     indexVerdict
	}{
		// The rule, sentence by sentence.
		{
			name: "an instance signature accepts as before, the index sent along and unsigned",
			cfg:  keyConfig, sigs: []protocol.Signature{instanceSig}, index: f.multiArch,
			want: indexVerdict{accept: true, via: protocol.AcceptedViaImage, signed: env.repo, reason: "signature 0 accepted: public key " + keyID},
		},
		{
			name: "an index signature accepts an instance the index lists (multi-arch OCI index, legacy, key)",
			cfg:  keyConfig, index: f.multiArch, mimeType: ociIndexType, indexSig: []protocol.Signature{multiArchSig},
			want: indexVerdict{
				accept: true, via: protocol.AcceptedViaIndex, signed: env.repo,
				reason: fmt.Sprintf("accepted through its index %s (signature 0 of the index): public key %s", multiArchDigest, keyID),
				index:  []string{"accepted"},
			},
		},
		{
			name: "a buildx index (the image and a provenance attestation manifest), index signed",
			cfg:  keyConfig, index: f.buildx, indexSig: []protocol.Signature{legacy(key.pair, env.repo, f.buildx)},
			want: indexVerdict{accept: true, via: protocol.AcceptedViaIndex, signed: env.repo, reason: "accepted through its index " + digestOf(t, f.buildx)},
		},
		{
			name: "a Docker manifest list, list signed",
			cfg:  keyConfig, index: f.dockerList, mimeType: dockerListType, indexSig: []protocol.Signature{legacy(key.pair, env.repo, f.dockerList)},
			want: indexVerdict{accept: true, via: protocol.AcceptedViaIndex, signed: env.repo, reason: "accepted through its index " + digestOf(t, f.dockerList)},
		},
		{
			name: "an index signature accepts keyless (legacy, Fulcio and Rekor), with the same identity rules",
			cfg:  gitlabConfig, index: f.multiArch, indexSig: []protocol.Signature{legacy(gitlab, env.repo, f.multiArch)},
			want: indexVerdict{
				accept: true, via: protocol.AcceptedViaIndex, signed: env.repo,
				reason: fmt.Sprintf("accepted through its index %s (signature 0 of the index): issuer %s, subject %s", multiArchDigest, gitlabIssuer, gitlabURI),
			},
		},
		{
			name: "an index bundle (cosign v3) accepts under digestOnly, naming no image",
			cfg:  bundleDigestOnly, index: f.multiArch, indexSig: []protocol.Signature{bundle(github, f.multiArch)},
			want: indexVerdict{accept: true, via: protocol.AcceptedViaIndex, reason: "accepted through its index " + multiArchDigest + " (signature 0 of the index): issuer " + githubIssuer},
		},
		{
			name: "an index bundle made with a key accepts under digestOnly",
			cfg:  keyDigestOnly, index: f.multiArch, indexSig: []protocol.Signature{bundle(key.pair, f.multiArch)},
			want: indexVerdict{accept: true, via: protocol.AcceptedViaIndex, reason: "accepted through its index " + multiArchDigest + " (signature 0 of the index): public key " + keyID},
		},
		{
			name: "an index bundle is held to signedIdentity as an instance's is",
			cfg:  bundleDefault, index: f.multiArch, indexSig: []protocol.Signature{bundle(github, f.multiArch)},
			want: indexVerdict{
				reason: "the instance has no signature; its index has 1, none accepted: index signature 0: signature names no image, only its digest",
				index:  []string{`use {"type": "digestOnly"}`},
			},
		},
		{
			name: "both signed (cosign sign --recursive): the instance's signature decides, the index's is not evaluated",
			cfg:  keyConfig, sigs: []protocol.Signature{instanceSig}, index: f.multiArch, indexSig: []protocol.Signature{multiArchSig},
			want: indexVerdict{accept: true, via: protocol.AcceptedViaImage, signed: env.repo, reason: "signature 0 accepted", index: []string{protocol.NotEvaluated}},
		},
		{
			name: "the second index signature accepts when the first does not",
			cfg:  keyConfig, index: f.multiArch, indexSig: []protocol.Signature{legacy(otherKey.pair, env.repo, f.multiArch), multiArchSig},
			want: indexVerdict{
				accept: true, via: protocol.AcceptedViaIndex, signature: 1, signed: env.repo,
				reason: fmt.Sprintf("accepted through its index %s (signature 1 of the index)", multiArchDigest),
				index:  []string{"signature was not made by the configured key", "accepted"},
			},
		},
		{
			name: "an index signed by a key the policy does not name rejects, saying what it judged",
			cfg:  keyConfig, index: f.multiArch, indexSig: []protocol.Signature{legacy(otherKey.pair, env.repo, f.multiArch)},
			want: indexVerdict{reason: "the instance has no signature; its index has 1, none accepted: index signature 0: signature was not made by the configured key (" + keyID + ")"},
		},
		{
			name: "an index signed by an identity the policy does not name rejects",
			cfg:  gitlabConfig, index: f.multiArch, indexSig: []protocol.Signature{legacy(email, env.repo, f.multiArch), legacy(otherKey.pair, env.repo, f.multiArch)},
			want: indexVerdict{
				reason: "the instance has no signature; its index has 2, none accepted: index signature 0: ", contains: "; index signature 1: ",
				index: []string{"matches no identity", ""},
			},
		},
		{
			name: "an index signature for another repository is held to signedIdentity against the same dockerReference",
			cfg:  keyConfig, index: f.multiArch, indexSig: []protocol.Signature{legacy(key.pair, "registry.example.com/team/other", f.multiArch)},
			want: indexVerdict{reason: "the instance has no signature; its index has 1, none accepted: index signature 0: ", index: []string{"registry.example.com/team/other"}},
		},
		{
			name: "signedIdentity matchExact: an index signature for the tag the user asked for accepts",
			cfg:  map[string]any{"keyPath": key.path, "signedIdentity": map[string]any{"type": "matchExact"}}, index: f.multiArch,
			indexSig: []protocol.Signature{legacy(key.pair, env.ref, f.multiArch)},
			want:     indexVerdict{accept: true, via: protocol.AcceptedViaIndex, signed: env.ref, reason: "accepted through its index " + multiArchDigest},
		},
		{
			name: "signedIdentity matchExact: an index signature for the repository only rejects, as an instance's would",
			cfg:  map[string]any{"keyPath": key.path, "signedIdentity": map[string]any{"type": "matchExact"}}, index: f.multiArch,
			indexSig: []protocol.Signature{legacy(key.pair, env.repo, f.multiArch)},
			want:     indexVerdict{index: []string{"signature for registry.example.com/team/app is not accepted for registry.example.com/team/app:1.4 by signedIdentity matchExact"}},
		},
		{
			name: "unsigned, index and all: no signatures, naming the index",
			cfg:  keyConfig, index: f.multiArch,
			want: indexVerdict{reason: "no signatures: neither the image nor its index " + multiArchDigest + " is signed"},
		},
		{
			name: "both lists rejected: both quoted",
			cfg:  keyConfig, sigs: []protocol.Signature{legacy(otherKey.pair, env.repo, env.manifest)}, index: f.multiArch, indexSig: []protocol.Signature{legacy(otherKey.pair, env.repo, f.multiArch)},
			want: indexVerdict{reason: "no signature accepted: signature 0: signature was not made", contains: "; of its index " + multiArchDigest + ": index signature 0: signature was not made"},
		},
		{
			name: "the instance rejected, the index unsigned: said so",
			cfg:  keyConfig, sigs: []protocol.Signature{legacy(otherKey.pair, env.repo, env.manifest)}, index: f.multiArch,
			want: indexVerdict{reason: "no signature accepted: signature 0: ", contains: "; its index " + multiArchDigest + " has no signature"},
		},

		// Hostile variants.
		{
			name: "the signed index does not list the instance",
			cfg:  keyConfig, index: f.notListing, indexSig: []protocol.Signature{legacy(key.pair, env.repo, f.notListing)},
			want: indexVerdict{
				reason: "the instance has no signature; its index has 1, none accepted: index signature 0: " + fmt.Sprintf(notListed, digestOf(t, f.notListing)),
				index:  []string{fmt.Sprintf(notListed, digestOf(t, f.notListing))},
			},
		},
		{
			name: "a signature of another index that also lists the instance",
			cfg:  keyConfig, index: f.multiArch, indexSig: []protocol.Signature{legacy(key.pair, env.repo, f.alsoListing)},
			want: indexVerdict{index: []string{fmt.Sprintf("signature is for manifest digest %s, not this manifest (%s)", digestOf(t, f.alsoListing), multiArchDigest)}},
		},
		{
			name: "a bundle of another index that also lists the instance",
			cfg:  bundleDigestOnly, index: f.multiArch, indexSig: []protocol.Signature{bundle(github, f.alsoListing)},
			want: indexVerdict{index: []string{"this manifest"}},
		},
		{
			name: "a nested list: the signed index names a list that names the instance",
			cfg:  keyConfig, index: f.nested, indexSig: []protocol.Signature{legacy(key.pair, env.repo, f.nested)},
			want: indexVerdict{index: []string{fmt.Sprintf(notListed, digestOf(t, f.nested))}},
		},
		{
			name: "the instance's digest listed in upper case",
			cfg:  keyConfig, index: f.upperCase, indexSig: []protocol.Signature{legacy(key.pair, env.repo, f.upperCase)},
			want: indexVerdict{index: []string{fmt.Sprintf(notListed, digestOf(t, f.upperCase))}},
		},
		{
			name: "the instance listed by its sha512 digest",
			cfg:  keyConfig, index: f.sha512, indexSig: []protocol.Signature{legacy(key.pair, env.repo, f.sha512)},
			want: indexVerdict{index: []string{fmt.Sprintf(notListed, digestOf(t, f.sha512))}},
		},
		{
			name: "a manifest posing as an index, though the host calls it one",
			cfg:  keyConfig, index: f.other, mimeType: ociIndexType, indexSig: []protocol.Signature{legacy(key.pair, env.repo, f.other)},
			want: indexVerdict{index: []string{fmt.Sprintf("the signed index %s is not a manifest list or image index: by its own media type it is %s", f.otherDigest, ociImageType)}},
		},
		{
			name: "bytes that are no manifest at all, signed",
			cfg:  keyConfig, index: []byte(`["not a manifest"]`), indexSig: []protocol.Signature{legacy(key.pair, env.repo, []byte(`["not a manifest"]`))},
			want: indexVerdict{index: []string{"is not a manifest list or image index: by its own media type it is of no known manifest type"}},
		},
		{
			name: "unverified index bytes are never read: garbage with a signature of another key says the key",
			cfg:  keyConfig, index: []byte(`{"manifests": [`), indexSig: []protocol.Signature{legacy(otherKey.pair, env.repo, []byte(`{"manifests": [`))},
			want: indexVerdict{index: []string{"signature was not made by the configured key"}},
		},
		{
			name: "an index with two manifests keys",
			cfg:  keyConfig, index: f.duplicateManifests, indexSig: []protocol.Signature{legacy(key.pair, env.repo, f.duplicateManifests)},
			want: indexVerdict{index: []string{fmt.Sprintf(`the signed index %s breaks the JSON rules: index: duplicate key "manifests"`, digestOf(t, f.duplicateManifests))}},
		},
		{
			name: "an index with manifests and Manifests",
			cfg:  keyConfig, index: f.caseManifests, indexSig: []protocol.Signature{legacy(key.pair, env.repo, f.caseManifests)},
			want: indexVerdict{index: []string{`is ambiguous: (root): keys "Manifests" and "manifests" name the same field`}},
		},
		{
			name: "an index entry with digest and Digest",
			cfg:  keyConfig, index: f.caseDigest, indexSig: []protocol.Signature{legacy(key.pair, env.repo, f.caseDigest)},
			want: indexVerdict{index: []string{`is ambiguous: manifests[0]: keys "Digest" and "digest" name the same field`}},
		},
		{
			name: "an instance signature put in index.signatures",
			cfg:  keyConfig, index: f.multiArch, indexSig: []protocol.Signature{instanceSig},
			want: indexVerdict{
				reason: "the instance has no signature; its index has 1, none accepted: ",
				index:  []string{fmt.Sprintf("signature is for manifest digest %s, not this manifest (%s)", env.digest, multiArchDigest)},
			},
		},
		{
			name: "an instance bundle put in index.signatures",
			cfg:  bundleDigestOnly, index: f.multiArch, indexSig: []protocol.Signature{bundle(github, env.manifest)},
			want: indexVerdict{reason: "the instance has no signature; its index has 1, none accepted: ", index: []string{"this manifest"}},
		},
		{
			name: "an index signature put in signatures",
			cfg:  keyConfig, sigs: []protocol.Signature{multiArchSig}, index: f.multiArch,
			want: indexVerdict{image: []string{fmt.Sprintf("signature is for manifest digest %s, not this manifest (%s)", multiArchDigest, env.digest)}},
		},
		{
			name: "an index signature with no index context",
			cfg:  keyConfig, sigs: []protocol.Signature{multiArchSig},
			want: indexVerdict{
				reason: "no signature accepted: signature 0: signature is for manifest digest " + multiArchDigest,
				image:  []string{fmt.Sprintf("signature is for manifest digest %s, not this manifest (%s)", multiArchDigest, env.digest)},
			},
		},
		{
			name: "an index bundle with no index context",
			cfg:  bundleDigestOnly, sigs: []protocol.Signature{bundle(github, f.multiArch)},
			want: indexVerdict{reason: "no signature accepted: signature 0: ", image: []string{"this manifest"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := env.request(t, tc.cfg, append([]protocol.Signature{}, tc.sigs...)...)
			if tc.index != nil {
				req = withIndex(req, tc.index, tc.mimeType, append([]protocol.Signature{}, tc.indexSig...)...)
			}
			resp := evaluate(t, req)
			tc.want.check(t, req, resp)
			// The same answer through the protocol, as a host gets it.
			status, stdout := serve(t, encodeRequest(t, req))
			if status != protocol.ExitOK {
				t.Fatalf("exit %d: %s", status, stdout)
			}
			resp.APIVersion, resp.Kind = protocol.APIVersion, protocol.KindVerifyResponse
			again, err := protocol.Encode(resp)
			if err != nil || !bytes.Equal(bytes.TrimSpace(again), bytes.TrimSpace(stdout)) {
				t.Fatalf("served %s\nevaluated %s (%v)", stdout, again, err)
			}
		})
	}
}

// FuzzIndexSignature: for any index bytes, validly signed by the configured
// key, with the instance unsigned, the image is accepted exactly when
// containers/image's list parser reads the bytes (by their own media type,
// after the strict JSON rules) as a list naming the instance's digest, and
// never said to have no signatures.
func FuzzIndexSignature(f *testing.F) {
	env := newTestEnv(f)
	fx := newIndexFixtures(f, env)
	for _, m := range [][]byte{
		fx.multiArch, fx.buildx, fx.dockerList, fx.notListing, fx.alsoListing, fx.nested, fx.upperCase, fx.sha512,
		fx.duplicateManifests, fx.caseManifests, fx.caseDigest, fx.other, []byte(`{"manifests": [`),
		[]byte(`{"schemaVersion":2,"manifests":[{"digest":"` + env.digest + `"}]}`),
	} {
		f.Add(m)
	}
	key, err := newKeyFile(f)
	if err != nil {
		f.Fatal(err)
	}
	cfg, errs, _ := ParseConfig(configJSON(f, map[string]any{"keyPath": key.path, "signedIdentity": map[string]any{"type": "matchRepository"}}))
	if len(errs) > 0 {
		f.Fatal(errs)
	}
	ref := env.ref
	f.Fuzz(func(t *testing.T, index []byte) {
		if len(index) == 0 {
			return // the decoder refuses an empty index manifest
		}
		sig, err := env.in.SignLegacy(key.pair, fixture.CosignPayload(env.repo, protocol.ManifestDigest(index)), fixture.LegacyOptions{NoSET: true})
		if err != nil {
			t.Fatal(err)
		}
		image := protocol.Image{
			Transport: "docker", DockerReference: &ref, Manifest: env.manifest,
			Index: &protocol.Index{Manifest: index, Signatures: []protocol.Signature{{
				Format: protocol.FormatSigstoreJSON, MIMEType: sig.MIMEType, Payload: sig.Payload, Annotations: sig.Annotations,
			}}},
		}
		resp := cfg.Evaluate(&image, []protocol.Signature{})
		if strings.ContainsAny(resp.Reason, "\r\n") || strings.Contains(resp.Reason, "no signatures") || len(resp.IndexSignatures) != 1 {
			t.Fatalf("response %+v", resp)
		}
		if digest, err := manifest.Digest(index); err != nil || digest.String() != protocol.ManifestDigest(index) {
			return // a schema1 manifest: its digest is not its bytes' (the host rejects it)
		}
		if got, want := resp.Verdict == protocol.VerdictAccept, listsDirectly(index, env.digest); got != want {
			t.Fatalf("accepted %v, want %v: %s\n%q", got, want, resp.Reason, index)
		}
	})
}

// listsDirectly is the rule, said once more with containers/image's parts.
func listsDirectly(index []byte, instance string) bool {
	if strictjson.ValidateText(index, "") != nil || caseFoldCollisions(index) != nil {
		return false
	}
	mimeType := manifest.GuessMIMEType(index)
	if !manifest.MIMETypeIsMultiImage(mimeType) {
		return false
	}
	list, err := manifest.ListFromBlob(index, mimeType)
	if err != nil {
		return false
	}
	return slices.Contains(list.Instances(), digest.Digest(instance))
}

// TestIndexRequestRules: the limit counts both lists, in the protocol and in
// process; an image.manifest that is itself a list cannot come with an index.
func TestIndexRequestRules(t *testing.T) {
	env := newTestEnv(t)
	f := newIndexFixtures(t, env)
	key, err := newKeyFile(t)
	if err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{"keyPath": key.path, "signedIdentity": map[string]any{"type": "matchRepository"}}
	unknownFormat := func(n int) []protocol.Signature {
		sigs := make([]protocol.Signature, n)
		for i := range sigs {
			sigs[i] = protocol.Signature{Format: "x-future", Unknown: true}
		}
		return sigs
	}
	tooMany := "the request carries 1001 signature entries (signatures and image.index.signatures together); at most 1000 are allowed"
	for _, tc := range []struct {
		name         string
		image, index int
		want         string // empty: answered
	}{
		{"1000 entries split between the lists are evaluated", 400, 600, ""},
		{"1001 entries split between the lists are refused", 500, 501, tooMany},
		{"1000 in the image's list and one in the index's are refused", MaxSignatures, 1, tooMany},
		{"one in the image's list and 1000 in the index's are refused", 1, MaxSignatures, tooMany},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := withIndex(env.request(t, cfg, unknownFormat(tc.image)...), f.multiArch, ociIndexType, unknownFormat(tc.index)...)
			resp, err := Evaluate(req)
			status, stdout := serve(t, encodeRequest(t, req))
			if tc.want == "" {
				if err != nil || status != protocol.ExitOK || len(resp.Signatures) != tc.image || len(resp.IndexSignatures) != tc.index {
					t.Fatalf("Evaluate: %v; served exit %d: %.300s", err, status, stdout)
				}
				return
			}
			var coded *protocol.CodedError
			if !errors.As(err, &coded) || coded.Code != protocol.CodeInvalidRequest || coded.Message != tc.want {
				t.Fatalf("Evaluate: %v, want INVALID_REQUEST %q", err, tc.want)
			}
			wantError(t, stdout, protocol.CodeInvalidRequest, tc.want)
		})
	}
	for _, tc := range []struct {
		name     string
		manifest []byte
	}{
		{"an OCI index as image.manifest with an index", f.multiArch},
		{"a Docker list as image.manifest with an index", f.dockerList},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := withIndex(env.request(t, cfg), f.buildx, ociIndexType)
			req.Image.Manifest = tc.manifest
			status, stdout := serve(t, encodeRequest(t, req))
			if status != protocol.ExitError {
				t.Fatalf("exit %d: %s", status, stdout)
			}
			wantError(t, stdout, protocol.CodeInvalidRequest, "image.manifest: is a manifest list or image index, but image.index is given")
		})
	}
}
