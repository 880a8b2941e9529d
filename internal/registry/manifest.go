package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/types"
)

// Image is one image in a registry, opened with Open. Its methods fetch
// from the registry each time they are called. Close releases it.
type Image struct {
	opts Options
	sys  *types.SystemContext
	ref  types.ImageReference
	src  types.ImageSource
	// registriesD is read when src is opened, as containers/image reads it
	// then, so that the referrers see the same configuration as src.
	registriesD *registriesD
	// relay carries containers/image's connections (see relay.go).
	relay *relay

	// The referrers clients, made on first use (see referrersSources).
	sourcesOnce sync.Once
	sources     []referrersSource
	sourcesErr  error
}

// Manifest is a manifest exactly as the registry served it.
type Manifest struct {
	// Bytes are the manifest's exact bytes; Digest is computed from them with
	// containers/image's rules (manifest.Digest) and checked against the
	// digest the caller asked for, if any.
	Bytes    []byte
	MIMEType string
	Digest   digest.Digest
}

// IsIndex says whether m lists per-platform instances (an OCI index or a
// Docker manifest list).
func (m Manifest) IsIndex() bool { return manifest.MIMETypeIsMultiImage(m.MIMEType) }

// Platform selects an instance of an index; empty fields mean the running
// system's, as containers/image chooses them.
type Platform struct {
	OS, Architecture, Variant string
}

// ParseReference parses a docker-transport image reference, with or without
// the "docker://" prefix, as podman would: "127.0.0.1:5000/team/app:1.4",
// "busybox" (docker.io/library/busybox:latest), "quay.io/x/y@sha256:...".
func ParseReference(imageRef string) (types.ImageReference, error) {
	s := strings.TrimPrefix(imageRef, "docker://")
	if strings.HasPrefix(s, "//") {
		return nil, fmt.Errorf("invalid image reference %q", imageRef)
	}
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return nil, fmt.Errorf("invalid image reference %q: %w", imageRef, err)
	}
	return docker.NewReference(reference.TagNameOnly(named))
}

// Open opens the image imageRef (see ParseReference) in its registry. It
// fails when the registry is unreachable or the image does not exist.
func Open(ctx context.Context, imageRef string, opts Options) (*Image, error) {
	ref, err := ParseReference(imageRef)
	if err != nil {
		return nil, err
	}
	sys := opts.systemContext()
	r, err := startRelay()
	if err != nil {
		return nil, err
	}
	r.install(sys)
	start := time.Now()
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		r.close()
		return nil, fmt.Errorf("opening %s: %w", transportsName(ref), r.idle.explain(err, start))
	}
	regsD, err := loadRegistriesD(sys)
	if err != nil {
		_ = src.Close()
		r.close()
		return nil, fmt.Errorf("loading registries.d: %w", err)
	}
	return &Image{opts: opts, sys: sys, ref: ref, src: src, registriesD: regsD, relay: r}, nil
}

func transportsName(ref types.ImageReference) string {
	return ref.Transport().Name() + ":" + ref.StringWithinTransport()
}

// Close releases the image's resources.
func (img *Image) Close() error {
	err := img.src.Close()
	img.relay.close()
	return err
}

// Reference is the image's normalized docker reference, as containers/image
// reports it (image.dockerReference in a VerifyRequest).
func (img *Image) Reference() reference.Named { return img.ref.DockerReference() }

// ImageReference is the containers/image reference, for a PolicyContext.
func (img *Image) ImageReference() types.ImageReference { return img.ref }

// Manifest fetches the top-level manifest: the image's, or its index. When
// the reference names a digest, the manifest must match it.
func (img *Image) Manifest(ctx context.Context) (Manifest, error) {
	return img.fetch(ctx, nil)
}

// Instance chooses the instance of index for platform p with
// containers/image's rules (as podman pull would) and fetches it. The
// instance's digest must match the index entry. It is an error when index is
// not an index or lists no instance for p.
func (img *Image) Instance(ctx context.Context, index Manifest, p Platform) (Manifest, error) {
	if !index.IsIndex() {
		return Manifest{}, fmt.Errorf("manifest %s (%s) is not an index", index.Digest, index.MIMEType)
	}
	list, err := manifest.ListFromBlob(index.Bytes, index.MIMEType)
	if err != nil {
		return Manifest{}, fmt.Errorf("parsing index %s: %w", index.Digest, err)
	}
	sys := *img.sys
	sys.OSChoice, sys.ArchitectureChoice, sys.VariantChoice = p.OS, p.Architecture, p.Variant
	d, err := list.ChooseInstance(&sys)
	if err != nil {
		return Manifest{}, fmt.Errorf("index %s: %w", index.Digest, err)
	}
	return img.fetchInstance(ctx, index, d)
}

// InstanceByDigest fetches instance d of index, as copy with CopyAllImages
// fetches each instance: d must be listed in index.
func (img *Image) InstanceByDigest(ctx context.Context, index Manifest, d digest.Digest) (Manifest, error) {
	if !index.IsIndex() {
		return Manifest{}, fmt.Errorf("manifest %s (%s) is not an index", index.Digest, index.MIMEType)
	}
	list, err := manifest.ListFromBlob(index.Bytes, index.MIMEType)
	if err != nil {
		return Manifest{}, fmt.Errorf("parsing index %s: %w", index.Digest, err)
	}
	if !slices.Contains(list.Instances(), d) {
		return Manifest{}, fmt.Errorf("index %s does not list %s", index.Digest, d)
	}
	return img.fetchInstance(ctx, index, d)
}

func (img *Image) fetchInstance(ctx context.Context, index Manifest, d digest.Digest) (Manifest, error) {
	m, err := img.fetch(ctx, &d)
	if err != nil {
		return Manifest{}, err
	}
	if m.IsIndex() {
		return Manifest{}, fmt.Errorf("instance %s of index %s is itself an index (%s)", d, index.Digest, m.MIMEType)
	}
	return m, nil
}

// fetch fetches the top-level manifest (instance nil) or the instance.
// containers/image's UnparsedImage checks the bytes against the digest.
func (img *Image) fetch(ctx context.Context, instance *digest.Digest) (Manifest, error) {
	what := transportsName(img.ref)
	if instance != nil {
		what += " instance " + instance.String()
	}
	start := time.Now()
	untrustedBytes, mimeType, err := image.UnparsedInstance(img.src, instance).Manifest(ctx)
	if err != nil {
		return Manifest{}, fmt.Errorf("fetching manifest of %s: %w", what, img.relay.idle.explain(err, start))
	}
	if len(untrustedBytes) == 0 {
		return Manifest{}, errors.New("fetching manifest of " + what + ": empty manifest")
	}
	d, err := manifest.Digest(untrustedBytes)
	if err != nil {
		return Manifest{}, fmt.Errorf("digesting manifest of %s: %w", what, err)
	}
	if mimeType == "" {
		mimeType = manifest.GuessMIMEType(untrustedBytes)
	}
	return Manifest{Bytes: untrustedBytes, MIMEType: manifest.NormalizedMIMEType(mimeType), Digest: d}, nil
}
