#!/bin/bash
# upstream-e2e.sh TREE: the end-to-end proof of the containers/image patch
# series, on a module tree upstream-apply.sh has patched (make upstream-check
# passes its own). Runs internal/upstreamcheck: upstream/containers-image/e2e
# built against TREE (and against the pristine module), driven through
# copy.Image and IsRunningImageAllowed against a real registry on loopback
# with skopeo-pushed, cosign-signed images and this repository's plugin.
# Plain `go test ./...` runs the same tests on a tree of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

tree=$(cd "${1:?usage: upstream-e2e.sh TREE}" && pwd)
export GOFLAGS=-tags=containers_image_openpgp
# UPSTREAM_E2E_TESTFLAGS holds several go test flags: split on purpose.
# shellcheck disable=SC2086
CPS_UPSTREAM_TREE=$tree exec go test -count=1 -timeout 30m ${UPSTREAM_E2E_TESTFLAGS:-} ./internal/upstreamcheck
