// Package realclients runs the end-to-end cases through the real clients
// `make upstream-clients` builds (internal/upstreamclients): `podman pull`,
// `skopeo copy`, and `skopeo experimental-image-proxy` driven as bootc
// drives it (internal/imageproxy: Initialize, OpenImage, GetManifest,
// CloseImage). The registry is a real one on loopback, the images are pushed
// by skopeo and signed by cosign, the plugin is this repository's, installed
// in a plugin directory.
//
// Every client gets the same cases, one test per client (TestPodmanPull,
// TestSkopeoCopy, TestImageProxy), one subtest per case, so that a verdict
// that changes in one client fails a named test. docs/upstream.md lists them.
//
// It has no code of its own, only tests; they are skipped under -short.
package realclients
