package registry

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"go.podman.io/image/v5/types"
	"go.podman.io/storage/pkg/configfile"
	"go.podman.io/storage/pkg/unshare"
)

// certDir is the containers-certs.d(5) directory of host (host[:port]) that
// containers/image's docker client reads CA certificates and client
// certificates from, found the way it finds it: the SystemContext's
// DockerCertPath or DockerPerHostCertDirPath, else the first existing
// <dir>/host of the certs.d search paths (/etc/containers/certs.d, the
// user's for rootless) and /etc/docker/certs.d. "" means none.
func certDir(sys *types.SystemContext, host string) (string, error) {
	if sys.DockerCertPath != "" {
		return sys.DockerCertPath, nil
	}
	if sys.DockerPerHostCertDirPath != "" {
		return filepath.Join(sys.DockerPerHostCertDirPath, host), nil
	}
	paths, err := configfile.GetSearchPaths(&configfile.File{
		Name:                           "certs",
		Extension:                      "d",
		DoNotUseExtensionForConfigName: true,
		UserId:                         unshare.GetRootlessUID(),
		RootForImplicitAbsolutePaths:   sys.RootForImplicitAbsolutePaths,
	})
	if err != nil {
		return "", err
	}
	docker := "/etc/docker/certs.d"
	if sys.RootForImplicitAbsolutePaths != "" {
		docker = filepath.Join(sys.RootForImplicitAbsolutePaths, docker)
	}
	for _, base := range append(paths.DropInDirectories, docker) {
		dir := filepath.Join(base, host)
		_, err := os.Stat(dir)
		switch {
		case err == nil:
			return dir, nil
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
			continue
		default:
			return "", err
		}
	}
	return "", nil
}
