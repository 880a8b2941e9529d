package check

import (
	"fmt"

	"go.podman.io/image/v5/manifest"

	"github.com/policy-plugins/sigstore/internal/registry"
)

// describeManifest reports the top-level manifest and, for an index, its
// instances.
func describeManifest(m registry.Manifest) (Manifest, error) {
	out := Manifest{Digest: m.Digest.String(), MediaType: m.MIMEType, Kind: "image", Instances: []Instance{}}
	if !m.IsIndex() {
		return out, nil
	}
	out.Kind = "index"
	list, err := manifest.ListFromBlob(m.Bytes, m.MIMEType)
	if err != nil {
		return out, fmt.Errorf("parsing index %s: %w", m.Digest, err)
	}
	for _, d := range list.Instances() {
		info, err := list.Instance(d)
		if err != nil {
			return out, fmt.Errorf("index %s: %w", m.Digest, err)
		}
		out.Instances = append(out.Instances, Instance{Digest: d.String(), MediaType: info.MediaType, Platform: platformString(info)})
	}
	return out, nil
}
