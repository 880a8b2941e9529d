// Package upstreamclients runs the real clients `make upstream-clients`
// builds into bin/upstream/ (hack/upstream-clients.sh): podman and skopeo
// from their own sources with the containers/image patch series, and skopeo
// with containers/image as released.
//
// Each run is isolated from the machine's configuration: a private HOME,
// TMPDIR and XDG_CONFIG_HOME, an empty registries.conf and auth file, and for
// podman an empty containers.conf and storage.conf, its storage in a
// temporary directory. The plugin directory is the caller's
// CONTAINERS_POLICY_PLUGINS_DIR (or Env), passed through as a user's shell
// would pass it.
//
// A missing binary fails the test naming `make upstream-clients`; under
// `go test -short` the tests that need one are skipped instead.
package upstreamclients
