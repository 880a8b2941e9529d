// Command containersimage links the two containers/image packages the plugin
// uses (docker/reference for signedIdentity, manifest for digests) and exits:
// their package initialisation, which the plugin pays on every start.
package main

import (
	_ "go.podman.io/image/v5/docker/reference"
	_ "go.podman.io/image/v5/manifest"
)

func main() {}
