package check

import (
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/manifest"

	"github.com/policy-plugins/sigstore/internal/registry"
)

// PlatformAll is the --platform value that evaluates every instance.
const PlatformAll = "all"

// Platform chooses the instance of a manifest list or image index to
// evaluate, as podman pull's --platform does; empty fields are this
// machine's (containers/image's SystemContext OSChoice, ArchitectureChoice,
// VariantChoice left unset). All evaluates every instance, as skopeo copy
// --all copies them.
type Platform struct {
	OS, Architecture, Variant string
	All                       bool
}

// ParsePlatform parses --platform: "" (this machine's), "all", or
// os/arch[/variant] split as podman pull splits it, each part possibly
// empty for this machine's ("linux", "/arm64", "linux/arm/v7"). podman
// ignores parts past the third; check refuses them rather than evaluate
// something other than what was written.
func ParsePlatform(s string) (Platform, error) {
	if s == PlatformAll {
		return Platform{All: true}, nil
	}
	if s == "" {
		return Platform{}, nil
	}
	parts := strings.Split(s, "/")
	if len(parts) > 3 {
		return Platform{}, fmt.Errorf("invalid platform %q: want os/arch[/variant], or %s", s, PlatformAll)
	}
	parts = append(parts, "", "")
	return Platform{OS: parts[0], Architecture: parts[1], Variant: parts[2]}, nil
}

// String is the platform as --platform spells it: "" for this machine's.
func (p Platform) String() string {
	switch {
	case p.All:
		return PlatformAll
	case p.Variant != "":
		return p.OS + "/" + p.Architecture + "/" + p.Variant
	case p.Architecture != "":
		return p.OS + "/" + p.Architecture
	default:
		return p.OS
	}
}

// instancePlatform is the os/arch[/variant] of index's entry for d, or "".
func instancePlatform(index registry.Manifest, d digest.Digest) string {
	list, err := manifest.ListFromBlob(index.Bytes, index.MIMEType)
	if err != nil { // describeManifest parsed it already
		return ""
	}
	info, err := list.Instance(d)
	if err != nil {
		return ""
	}
	return platformString(info)
}

func platformString(info manifest.ListUpdate) string {
	pl := info.ReadOnly.Platform
	if pl == nil {
		return ""
	}
	s := pl.OS + "/" + pl.Architecture
	if pl.Variant != "" {
		s += "/" + pl.Variant
	}
	return s
}
