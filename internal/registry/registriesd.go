package registry

import (
	"fmt"
	"io"

	"go.podman.io/image/v5/docker/policyconfiguration"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage/pkg/configfile"
	"go.podman.io/storage/pkg/unshare"
	"go.yaml.in/yaml/v3"
)

// registries.d's use-sigstore-attachments decides, per place an image is
// read from, whether containers/image's docker transport reads cosign
// attachments there, and (patch 0002 of upstream/containers-image) Sigstore
// bundle referrers too. containers/image keeps the lookup to itself
// (docker/registries_d.go: loadRegistryConfiguration, useSigstoreAttachments),
// and Bundles reads referrers with another client, so the lookup is restated
// here with containers/image's own parts: the same files (configfile, with the
// settings it uses), the same merge, and the same namespaces
// (policyconfiguration) of the same physical reference. TestSignaturesFollowRegistriesD
// holds it to containers/image's decision for attachments.

// registriesD is the merged registries.d, as far as use-sigstore-attachments
// goes.
type registriesD struct {
	defaultDocker *registriesDNamespace
	docker        map[string]registriesDNamespace
}

// registriesDNamespace is one namespace's entry. containers/image's has the
// lookaside locations too; a malformed one makes its image source fail to
// open, before anything here is asked.
type registriesDNamespace struct {
	UseSigstoreAttachments *bool `yaml:"use-sigstore-attachments,omitempty"`
}

// loadRegistriesD reads registries.d for sys as containers/image does: the
// drop-in files only, from sys.RegistriesDirPath or the default directories,
// a namespace (or default-docker) defined twice being an error.
func loadRegistriesD(sys *types.SystemContext) (*registriesD, error) {
	files := configfile.File{
		Name:                            "registries",
		Extension:                       "yaml",
		DoNotLoadMainFiles:              true,
		DoNotUseExtensionForConfigName:  true,
		UserId:                          unshare.GetRootlessUID(),
		RootForImplicitAbsolutePaths:    sys.RootForImplicitAbsolutePaths,
		CustomConfigFileDropInDirectory: sys.RegistriesDirPath,
	}
	merged := &registriesD{docker: map[string]registriesDNamespace{}}
	defaultFrom := ""
	from := map[string]string{}
	for item, err := range configfile.Read(&files) {
		if err != nil {
			return nil, err
		}
		contents, err := io.ReadAll(item.Reader)
		if err != nil {
			return nil, err
		}
		var file struct {
			DefaultDocker *registriesDNamespace           `yaml:"default-docker"`
			Docker        map[string]registriesDNamespace `yaml:"docker"`
		}
		if err := yaml.Unmarshal(contents, &file); err != nil {
			return nil, fmt.Errorf("parsing %s: %w", item.Name, err)
		}
		if file.DefaultDocker != nil {
			if merged.defaultDocker != nil {
				return nil, fmt.Errorf(`registries.d: "default-docker" defined both in %q and %q`, defaultFrom, item.Name)
			}
			merged.defaultDocker, defaultFrom = file.DefaultDocker, item.Name
		}
		for ns, entry := range file.Docker {
			if _, ok := merged.docker[ns]; ok {
				return nil, fmt.Errorf(`registries.d: "docker" namespace %q defined both in %q and %q`, ns, from[ns], item.Name)
			}
			merged.docker[ns], from[ns] = entry, item.Name
		}
	}
	return merged, nil
}

// useSigstoreAttachments says whether signatures are read from the place
// physical (a pull source's reference, with its tag or digest): the entry for
// its identity, else the most specific namespace's that sets it, else
// default-docker's, else no.
func (c *registriesD) useSigstoreAttachments(physical reference.Named) (bool, error) {
	identity, err := policyconfiguration.DockerReferenceIdentity(physical)
	if err != nil {
		return false, err
	}
	for _, ns := range append([]string{identity}, policyconfiguration.DockerReferenceNamespaces(physical)...) {
		if entry, ok := c.docker[ns]; ok && entry.UseSigstoreAttachments != nil {
			return *entry.UseSigstoreAttachments, nil
		}
	}
	if c.defaultDocker != nil && c.defaultDocker.UseSigstoreAttachments != nil {
		return *c.defaultDocker.UseSigstoreAttachments, nil
	}
	return false, nil
}
