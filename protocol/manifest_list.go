package protocol

import "encoding/json"

// Media types of manifest lists and image indexes, as containers/image names them.
const (
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeOCIImageIndex      = "application/vnd.oci.image.index.v1+json"
)

// IsManifestList says whether containers/image takes manifest for a manifest
// list or image index: manifest.MIMETypeIsMultiImage(manifest.GuessMIMEType(manifest)).
// A host sends image.index only with an instance, and a request whose
// image.manifest is a list and that carries image.index is INVALID_REQUEST.
//
// The rules are containers/image's own, repeated here because this package
// imports only the standard library; a test in package plugin holds the two
// to the same answers. They are encoding/json's, as containers/image's are
// (case-insensitive keys, the last of duplicate keys wins): what matters is
// that host, plugin and containers/image see the same kind of manifest.
func IsManifestList(manifest []byte) bool {
	return isMultiImage(guessMIMEType(manifest))
}

func isMultiImage(mimeType string) bool {
	return mimeType == MediaTypeDockerManifestList || mimeType == MediaTypeOCIImageIndex
}

// guessMIMEType is containers/image's internal/manifest.GuessMIMEType (v5.42),
// but for the schema1 distinction, which only decides between two answers that
// are no list.
func guessMIMEType(manifest []byte) string {
	meta := struct {
		MediaType     string `json:"mediaType"`
		SchemaVersion int    `json:"schemaVersion"`
		Signatures    any    `json:"signatures"`
	}{}
	if err := json.Unmarshal(manifest, &meta); err != nil {
		return ""
	}
	switch meta.MediaType {
	case "application/vnd.docker.distribution.manifest.v2+json", MediaTypeDockerManifestList,
		"application/vnd.oci.image.manifest.v1+json", MediaTypeOCIImageIndex:
		return meta.MediaType
	}
	if meta.SchemaVersion != 2 {
		return "" // schema1 or unknown: no list either way
	}
	ociMan := struct {
		Config struct {
			MediaType string `json:"mediaType"`
		} `json:"config"`
	}{}
	if err := json.Unmarshal(manifest, &ociMan); err != nil {
		return ""
	}
	switch ociMan.Config.MediaType {
	case "application/vnd.oci.image.config.v1+json":
		return "application/vnd.oci.image.manifest.v1+json"
	case "application/vnd.docker.container.image.v1+json":
		return "application/vnd.docker.distribution.manifest.v2+json"
	}
	ociIndex := struct {
		Manifests []ociDescriptor `json:"manifests"`
	}{}
	if err := json.Unmarshal(manifest, &ociIndex); err != nil {
		return ""
	}
	if len(ociIndex.Manifests) != 0 {
		if ociMan.Config.MediaType == "" {
			return MediaTypeOCIImageIndex
		}
		return ociMan.Config.MediaType // containers/image's own mix of manifest and config types
	}
	return "application/vnd.oci.image.manifest.v1+json"
}

// ociDescriptor has the fields and types of image-spec v1's Descriptor, so
// that json.Unmarshal fails on exactly the manifests it fails on for
// containers/image.
type ociDescriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	URLs         []string          `json:"urls,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Data         []byte            `json:"data,omitempty"`
	Platform     *ociPlatform      `json:"platform,omitempty"`
	ArtifactType string            `json:"artifactType,omitempty"`
}

type ociPlatform struct {
	Architecture string   `json:"architecture"`
	OS           string   `json:"os"`
	OSVersion    string   `json:"os.version,omitempty"`
	OSFeatures   []string `json:"os.features,omitempty"`
	Variant      string   `json:"variant,omitempty"`
}
