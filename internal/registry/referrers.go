package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	ggcrtypes "github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
)

// Limits on what Bundles reads; exceeding one is an error (fail closed).
const (
	// MaxReferrers is the most referrers of one manifest Bundles looks at,
	// of any artifact type.
	MaxReferrers = 100
	// MaxBundleSize is the largest bundle blob Bundles reads.
	MaxBundleSize = 4 << 20
	// maxReferrerManifestSize is the largest referrer manifest Bundles reads.
	maxReferrerManifestSize = 1 << 20
)

// BundleMediaTypes are the artifact types of Sigstore bundles that Bundles
// returns: cosign v3 and GitHub artifact attestations use the v0.3 name; the
// "+json;version=" names are the older spellings (bundle v0.1 to v0.3).
var BundleMediaTypes = []string{
	"application/vnd.dev.sigstore.bundle.v0.3+json",
	"application/vnd.dev.sigstore.bundle+json;version=0.3",
	"application/vnd.dev.sigstore.bundle+json;version=0.2",
	"application/vnd.dev.sigstore.bundle+json;version=0.1",
}

// IsBundleMediaType says whether mediaType is one of BundleMediaTypes.
func IsBundleMediaType(mediaType string) bool { return slices.Contains(BundleMediaTypes, mediaType) }

// Bundle is one Sigstore bundle attached to a manifest as an OCI referrer.
// All of it is untrusted.
type Bundle struct {
	// MediaType is the referrer's artifact type, one of BundleMediaTypes.
	MediaType string
	// JSON is the bundle, the referrer's one layer, exactly as stored and
	// unchecked: whether plugins can be sent it is protocol.SendableBundle's
	// to say.
	JSON []byte
	// Referrer is the digest of the referrer manifest that holds it.
	Referrer digest.Digest
}

// Bundles fetches the Sigstore bundles attached to manifest d of the image
// as OCI referrers: from the registry's referrers API, or, where the registry
// has none, from the referrers tag sha256-<hex> (an OCI index). Referrers of
// other artifact types (SBOMs, cosign's experimental legacy referrers, ...)
// are ignored. A bundle referrer must be an OCI manifest whose subject is d,
// with exactly one layer of its artifact type, of at most MaxBundleSize
// bytes; anything else, more than MaxReferrers referrers, or a failure to
// fetch is an error. No referrers is an empty result; a listed referrer
// whose manifest is gone (404) is skipped. The bundle's content is not
// judged here: one that is not even JSON is returned, as containers/image
// returns it, and left out of plugin requests by the caller
// (protocol.SendableBundle), not made an error that would hide every other
// signature.
//
// Like the patched containers/image (upstream/containers-image, patch 0002),
// and like Attachments, it reads them only where registries.d enables
// use-sigstore-attachments for the place they are read from (the registry's
// or the mirror's repository, with containers/image's namespace lookup);
// elsewhere it asks the registry nothing, and lookedFor is false.
//
// Call it for a manifest Manifest or Instance returned: Bundles cannot tell a
// missing image from one with no referrers.
func (img *Image) Bundles(ctx context.Context, d digest.Digest) (bundles []Bundle, lookedFor bool, err error) {
	if err := d.Validate(); err != nil {
		return nil, false, fmt.Errorf("manifest digest %q: %w", d, err)
	}
	sources, err := img.referrersSources()
	if err != nil {
		return nil, false, err
	}
	// Where no place would be read, not even the mirrors are asked which one
	// has d.
	if !slices.ContainsFunc(sources, func(s referrersSource) bool { return s.sigstoreAttachments }) {
		return nil, false, nil
	}
	src, err := chooseSource(ctx, sources, d.String())
	if err != nil {
		return nil, false, fmt.Errorf("listing referrers of %s@%s: %w", img.ref.DockerReference().Name(), d, err)
	}
	if !src.sigstoreAttachments {
		return nil, false, nil
	}
	subject := src.repo.Digest(d.String())

	index, err := remote.Referrers(subject, remote.Reuse(src.puller), remote.WithContext(ctx))
	if err != nil {
		return nil, true, fmt.Errorf("listing referrers of %s: %w", subject, err)
	}
	untrustedIndex, err := index.IndexManifest()
	if err != nil {
		return nil, true, fmt.Errorf("listing referrers of %s: %w", subject, err)
	}
	if n := len(untrustedIndex.Manifests); n > MaxReferrers {
		return nil, true, fmt.Errorf("%s has %d referrers, more than the %d allowed", subject, n, MaxReferrers)
	}

	bundles = []Bundle{}
	seen := map[v1.Hash]bool{}
	for _, desc := range untrustedIndex.Manifests {
		if !IsBundleMediaType(desc.ArtifactType) || seen[desc.Digest] {
			continue
		}
		seen[desc.Digest] = true
		b, err := fetchBundle(ctx, src, d, desc)
		if errors.Is(err, errReferrerGone) {
			continue
		}
		if err != nil {
			return nil, true, fmt.Errorf("referrer %s of %s: %w", desc.Digest, subject, err)
		}
		bundles = append(bundles, b)
	}
	return bundles, true, nil
}

// errReferrerGone is fetchBundle's answer for a referrer manifest the
// registry does not have (404): referrers tag indexes keep entries of deleted
// referrers. Skipping one can only lose a signature, never add one.
var errReferrerGone = errors.New("referrer manifest not found")

// fetchBundle fetches and checks the bundle referrer desc of subject.
func fetchBundle(ctx context.Context, src *referrersSource, subject digest.Digest, desc v1.Descriptor) (Bundle, error) {
	if desc.MediaType != ggcrtypes.OCIManifestSchema1 {
		return Bundle{}, fmt.Errorf("media type %q, want %s", desc.MediaType, ggcrtypes.OCIManifestSchema1)
	}
	if desc.Size <= 0 || desc.Size > maxReferrerManifestSize {
		return Bundle{}, fmt.Errorf("manifest size %d, want 1 to %d", desc.Size, maxReferrerManifestSize)
	}
	// remote.Get checks the manifest against the digest it is fetched by.
	got, err := src.puller.Get(ctx, src.repo.Digest(desc.Digest.String()))
	if terr := (*transport.Error)(nil); errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return Bundle{}, errReferrerGone
	}
	if err != nil {
		return Bundle{}, err
	}
	untrustedManifestBytes := got.Manifest
	if got := digest.FromBytes(untrustedManifestBytes); got.String() != desc.Digest.String() {
		return Bundle{}, fmt.Errorf("manifest content has digest %s", got)
	}
	if int64(len(untrustedManifestBytes)) != desc.Size || got.MediaType != ggcrtypes.OCIManifestSchema1 {
		return Bundle{}, fmt.Errorf("manifest (%s, %d bytes) does not match its descriptor", got.MediaType, len(untrustedManifestBytes))
	}
	untrustedManifest, err := v1.ParseManifest(bytes.NewReader(untrustedManifestBytes))
	if err != nil {
		return Bundle{}, err
	}
	if untrustedManifest.Subject == nil || untrustedManifest.Subject.Digest.String() != subject.String() {
		return Bundle{}, fmt.Errorf("manifest subject %v, want %s", untrustedManifest.Subject, subject)
	}
	if untrustedManifest.ArtifactType != "" && untrustedManifest.ArtifactType != desc.ArtifactType {
		return Bundle{}, fmt.Errorf("manifest artifactType %q, its descriptor says %q", untrustedManifest.ArtifactType, desc.ArtifactType)
	}
	if len(untrustedManifest.Layers) != 1 {
		return Bundle{}, fmt.Errorf("manifest has %d layers, want 1", len(untrustedManifest.Layers))
	}
	layer := untrustedManifest.Layers[0]
	if string(layer.MediaType) != desc.ArtifactType {
		return Bundle{}, fmt.Errorf("layer media type %q, want %q", layer.MediaType, desc.ArtifactType)
	}
	untrustedBundle, err := fetchBlob(ctx, src, layer, MaxBundleSize)
	if err != nil {
		return Bundle{}, fmt.Errorf("bundle %s: %w", layer.Digest, err)
	}
	return Bundle{MediaType: desc.ArtifactType, JSON: untrustedBundle, Referrer: digest.Digest(desc.Digest.String())}, nil
}

// fetchBlob reads blob desc of the source's repository, at most limit bytes, and checks its
// size and sha256 digest.
func fetchBlob(ctx context.Context, src *referrersSource, desc v1.Descriptor, limit int64) ([]byte, error) {
	if desc.Digest.Algorithm != "sha256" {
		return nil, fmt.Errorf("digest algorithm %q, want sha256", desc.Digest.Algorithm)
	}
	if desc.Size <= 0 || desc.Size > limit {
		return nil, fmt.Errorf("size %d, want 1 to %d", desc.Size, limit)
	}
	layer, err := src.puller.Layer(ctx, src.repo.Digest(desc.Digest.String()))
	if err != nil {
		return nil, err
	}
	rc, err := layer.Compressed()
	if err != nil {
		return nil, err
	}
	defer func() { _ = rc.Close() }()
	data, err := io.ReadAll(io.LimitReader(rc, desc.Size+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != desc.Size {
		return nil, fmt.Errorf("got %d bytes, descriptor says %d", len(data), desc.Size)
	}
	if got := digest.FromBytes(data); got.String() != desc.Digest.String() {
		return nil, fmt.Errorf("content has digest %s", got)
	}
	return data, nil
}
