package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	ggcrtypes "github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"

	"github.com/policy-plugins/sigstore/protocol"
)

// Limits on what Bundles reads; exceeding one is an error (fail closed).
const (
	// MaxBundleSize is the largest bundle blob Bundles reads.
	MaxBundleSize = 4 << 20
	// maxReferrerManifestSize is the largest referrer manifest Bundles reads.
	maxReferrerManifestSize = 1 << 20
	// maxReferrersIndexSize is the largest referrers index (the API's
	// answer, or the referrers tag) read: containers/image's manifest limit.
	// At about 200 bytes an entry, it lists 20000 referrers.
	maxReferrersIndexSize = 4 << 20
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

// Bundles fetches the Sigstore bundles attached to manifest d as Signatures
// does, with a budget of its own.
func (img *Image) Bundles(ctx context.Context, d digest.Digest) (bundles []Bundle, lookedFor bool, err error) {
	sigs, err := img.Signatures(ctx, d, protocol.NewSignatureBudget(0), bundlesOnly)
	switch {
	case err != nil:
		return nil, sigs != nil && sigs.LookedFor, err
	case !sigs.LookedFor:
		return nil, false, nil
	}
	return sigs.Bundles, true, nil
}

// Signatures are the candidate signatures of one manifest, in a host's
// order: attachments, then bundles.
type Signatures struct {
	Attachments []Attachment
	Bundles     []Bundle
	// LookedFor says registries.d let them be looked for.
	LookedFor bool
	// AttachmentsLeftOut and BundlesLeftOut count the candidates the budget
	// left out, never read.
	AttachmentsLeftOut, BundlesLeftOut int
	// ReferrersIndexLeftOut says the referrers index was larger than
	// maxReferrersIndexSize: it was not read, and no bundle with it. Anyone
	// who can push referrers can grow it; leaving it out can only lose
	// signatures, and must not make the attachments unusable.
	ReferrersIndexLeftOut bool
}

// which says what Signatures reads: both, or one kind for Attachments and
// Bundles.
type which int

const (
	both which = iota
	attachmentsOnly
	bundlesOnly
)

// Signatures fetches the signatures of manifest d (the top-level manifest or
// an instance) in both formats, as the patched containers/image does for a
// plugin requirement, from the place containers/image reads the image from,
// and only where registries.d enables use-sigstore-attachments for that
// place (the registry's or the mirror's repository, with containers/image's
// namespace lookup); elsewhere it asks the registry nothing, and LookedFor is
// false. Both kinds are read with the project's client, so that budget
// applies while reading (containers/image reads every attachment whole
// before returning any):
//
//   - cosign attachments in the legacy layout: the layers of the manifest
//     tagged sha256-<hex>.sig, parsed as containers/image parses it;
//   - Sigstore bundles attached as OCI referrers: from the registry's
//     referrers API, or, where the registry has none, from the referrers tag
//     sha256-<hex> (an OCI index). Referrers of other artifact types are
//     ignored. A bundle referrer must be an OCI manifest whose subject is d,
//     with exactly one layer of its artifact type, of at most MaxBundleSize
//     bytes; a listed referrer whose manifest is gone (404) is skipped. The
//     bundle's content is not judged here: one that is not even JSON is
//     returned, as containers/image returns it, and left out of plugin
//     requests by the caller (protocol.SendableBundle).
//
// Every candidate is offered to budget in that order (all attachments before
// any bundle) at the cost its descriptor announces, before it is read; one
// that does not fit is left out, counted, never read; so is a referrers
// index larger than maxReferrersIndexSize, with every bundle it lists
// (ReferrersIndexLeftOut). Anything else
// malformed, or a failure to fetch, is an error. Call it for a manifest
// Manifest or Instance returned: it cannot tell a missing image from one
// with no signatures.
func (img *Image) Signatures(ctx context.Context, d digest.Digest, budget *protocol.SignatureBudget, kinds ...which) (*Signatures, error) {
	want := both
	if len(kinds) > 0 {
		want = kinds[0]
	}
	return img.signatures(ctx, d, budget, want, nil, nil)
}

// SignaturesAround reads d's signatures as Signatures does, and calls
// before (when not nil) before any attachment of d is offered to budget,
// and between once every attachment of d was, before any of d's bundles is;
// both only where registries.d lets them be looked for (LookedFor). A
// request about an instance chosen from an index offers the index's
// signatures at those places: a host's order is the image's attachments,
// the index's, the image's bundles, the index's, all within the request's
// one budget. An error from before or between is Signatures' error.
func (img *Image) SignaturesAround(ctx context.Context, d digest.Digest, budget *protocol.SignatureBudget,
	before, between func(context.Context) error,
) (*Signatures, error) {
	return img.signatures(ctx, d, budget, both, before, between)
}

func (img *Image) signatures(ctx context.Context, d digest.Digest, budget *protocol.SignatureBudget, want which,
	before, between func(context.Context) error,
) (*Signatures, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("manifest digest %q: %w", d, err)
	}
	sources, err := img.referrersSources()
	if err != nil {
		return nil, err
	}
	res := &Signatures{Attachments: []Attachment{}, Bundles: []Bundle{}}
	// Where no place would be read, not even the mirrors are asked which one
	// has d.
	if !slices.ContainsFunc(sources, func(s referrersSource) bool { return s.sigstoreAttachments }) {
		return res, nil
	}
	name := img.ref.DockerReference().Name()
	src, err := chooseSource(ctx, sources, d.String())
	if err != nil {
		return nil, fmt.Errorf("fetching signatures of %s@%s: %w", name, d, err)
	}
	if !src.sigstoreAttachments {
		return res, nil
	}
	res.LookedFor = true

	// The two lookups run at once; the bundles are offered to the budget
	// only once every attachment was.
	attachmentsPlanned := make(chan struct{})
	var wg sync.WaitGroup
	var attachmentsErr, bundlesErr error
	wg.Go(func() {
		if want == bundlesOnly {
			close(attachmentsPlanned)
			return
		}
		var plan *attachmentPlan
		var err error
		if before != nil {
			err = before(ctx)
		}
		if err == nil {
			plan, err = planAttachments(ctx, src, d, budget)
		}
		if err == nil && between != nil {
			err = between(ctx)
		}
		close(attachmentsPlanned)
		if err == nil {
			res.AttachmentsLeftOut = plan.leftOut
			res.Attachments, err = fetchAttachments(ctx, src, plan)
		}
		if err != nil {
			attachmentsErr = fmt.Errorf("fetching signatures of %s@%s: %w", name, d, err)
		}
	})
	if want != attachmentsOnly {
		wg.Go(func() {
			res.Bundles, res.BundlesLeftOut, bundlesErr = fetchBundles(ctx, src, d, budget, attachmentsPlanned)
			if errors.Is(bundlesErr, errIndexTooLarge) {
				res.Bundles, res.ReferrersIndexLeftOut, bundlesErr = []Bundle{}, true, nil
			}
		})
	}
	wg.Wait()
	if err := errors.Join(attachmentsErr, bundlesErr); err != nil {
		return res, err
	}
	return res, nil
}

// errIndexTooLarge is fetchBundles' answer for a referrers index past
// maxReferrersIndexSize.
var errIndexTooLarge = errors.New("the referrers index is larger than the limit")

// fetchBundles lists the referrers of d and reads the bundle referrers that
// budget takes, once attachmentsPlanned is closed.
func fetchBundles(ctx context.Context, src *referrersSource, d digest.Digest, budget *protocol.SignatureBudget,
	attachmentsPlanned <-chan struct{},
) (bundles []Bundle, leftOut int, err error) {
	subject := src.repo.Digest(d.String())
	index, err := remote.Referrers(subject, remote.Reuse(src.puller), remote.WithContext(withBodyLimit(ctx, maxReferrersIndexSize)))
	if errors.As(err, new(*TooLargeError)) {
		return nil, 0, errIndexTooLarge
	}
	if err != nil {
		return nil, 0, fmt.Errorf("listing referrers of %s: %w", subject, err)
	}
	untrustedIndex, err := index.IndexManifest()
	if err != nil {
		return nil, 0, fmt.Errorf("listing referrers of %s: %w", subject, err)
	}
	select {
	case <-attachmentsPlanned:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}

	bundles = []Bundle{}
	seen := map[v1.Hash]bool{}
	for _, desc := range untrustedIndex.Manifests {
		if !IsBundleMediaType(desc.ArtifactType) || seen[desc.Digest] {
			continue
		}
		seen[desc.Digest] = true
		if budget.Full() {
			budget.Skip()
			leftOut++
			continue
		}
		layer, err := referrerLayer(ctx, src, d, desc)
		if errors.Is(err, errReferrerGone) {
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("referrer %s of %s: %w", desc.Digest, subject, err)
		}
		if !budget.Take(protocol.BundleCost(desc.ArtifactType, layer.Size)) {
			leftOut++
			continue
		}
		untrustedBundle, err := fetchBlob(ctx, src, layer, MaxBundleSize)
		if err != nil {
			return nil, 0, fmt.Errorf("referrer %s of %s: bundle %s: %w", desc.Digest, subject, layer.Digest, err)
		}
		bundles = append(bundles, Bundle{MediaType: desc.ArtifactType, JSON: untrustedBundle, Referrer: digest.Digest(desc.Digest.String())})
	}
	return bundles, leftOut, nil
}

// errReferrerGone is fetchBundle's answer for a referrer manifest the
// registry does not have (404): referrers tag indexes keep entries of deleted
// referrers. Skipping one can only lose a signature, never add one.
var errReferrerGone = errors.New("referrer manifest not found")

// referrerLayer fetches and checks the bundle referrer desc of subject and
// returns its one layer's descriptor.
func referrerLayer(ctx context.Context, src *referrersSource, subject digest.Digest, desc v1.Descriptor) (v1.Descriptor, error) {
	if desc.MediaType != ggcrtypes.OCIManifestSchema1 {
		return v1.Descriptor{}, fmt.Errorf("media type %q, want %s", desc.MediaType, ggcrtypes.OCIManifestSchema1)
	}
	if desc.Size <= 0 || desc.Size > maxReferrerManifestSize {
		return v1.Descriptor{}, fmt.Errorf("manifest size %d, want 1 to %d", desc.Size, maxReferrerManifestSize)
	}
	// remote.Get checks the manifest against the digest it is fetched by.
	got, err := src.puller.Get(withBodyLimit(ctx, maxReferrerManifestSize), src.repo.Digest(desc.Digest.String()))
	if terr := (*transport.Error)(nil); errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return v1.Descriptor{}, errReferrerGone
	}
	if err != nil {
		return v1.Descriptor{}, err
	}
	untrustedManifestBytes := got.Manifest
	if got := digest.FromBytes(untrustedManifestBytes); got.String() != desc.Digest.String() {
		return v1.Descriptor{}, fmt.Errorf("manifest content has digest %s", got)
	}
	if int64(len(untrustedManifestBytes)) != desc.Size || got.MediaType != ggcrtypes.OCIManifestSchema1 {
		return v1.Descriptor{}, fmt.Errorf("manifest (%s, %d bytes) does not match its descriptor", got.MediaType, len(untrustedManifestBytes))
	}
	untrustedManifest, err := v1.ParseManifest(bytes.NewReader(untrustedManifestBytes))
	if err != nil {
		return v1.Descriptor{}, err
	}
	if untrustedManifest.Subject == nil || untrustedManifest.Subject.Digest.String() != subject.String() {
		return v1.Descriptor{}, fmt.Errorf("manifest subject %v, want %s", untrustedManifest.Subject, subject)
	}
	if untrustedManifest.ArtifactType != "" && untrustedManifest.ArtifactType != desc.ArtifactType {
		return v1.Descriptor{}, fmt.Errorf("manifest artifactType %q, its descriptor says %q", untrustedManifest.ArtifactType, desc.ArtifactType)
	}
	if len(untrustedManifest.Layers) != 1 {
		return v1.Descriptor{}, fmt.Errorf("manifest has %d layers, want 1", len(untrustedManifest.Layers))
	}
	layer := untrustedManifest.Layers[0]
	if string(layer.MediaType) != desc.ArtifactType {
		return v1.Descriptor{}, fmt.Errorf("layer media type %q, want %q", layer.MediaType, desc.ArtifactType)
	}
	if layer.Size <= 0 || layer.Size > MaxBundleSize {
		return v1.Descriptor{}, fmt.Errorf("bundle %s: size %d, want 1 to %d", layer.Digest, layer.Size, MaxBundleSize)
	}
	return layer, nil
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
	// One buffer of the announced size, filled once: never more held.
	data := make([]byte, desc.Size)
	if n, err := io.ReadFull(rc, data); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("got %d bytes, descriptor says %d", n, desc.Size)
		}
		return nil, err
	}
	if n, _ := rc.Read(make([]byte, 1)); n > 0 {
		return nil, fmt.Errorf("got more bytes than the %d its descriptor says", desc.Size)
	}
	if got := digest.FromBytes(data); got.String() != desc.Digest.String() {
		return nil, fmt.Errorf("content has digest %s", got)
	}
	return data, nil
}
