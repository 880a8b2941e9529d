#!/bin/bash
# upstream-e2e.sh TREE: the benchmark harness of the containers/image patch
# series, on a module tree upstream-apply.sh has patched (make upstream-check
# passes its own). Runs internal/upstreamcheck's TestBenchRuns:
# upstream/containers-image/e2e built against TREE copies a cosign-signed
# image from a real registry on loopback under sigstoreSigned and under the
# plugin requirement, so that hack/upstream-bench.sh keeps working. The
# series' verdicts are proven through the real clients (internal/realclients,
# after make upstream-clients). Plain `go test ./...` runs the same test on a
# tree of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

tree=$(cd "${1:?usage: upstream-e2e.sh TREE}" && pwd)
export GOFLAGS=-tags=containers_image_openpgp
# UPSTREAM_E2E_TESTFLAGS holds several go test flags: split on purpose.
# shellcheck disable=SC2086
CPS_UPSTREAM_TREE=$tree exec go test -count=1 -timeout 30m ${UPSTREAM_E2E_TESTFLAGS:-} ./internal/upstreamcheck
