#!/bin/bash
# upstream-bench.sh [ROUNDS]: the paired speed measurement of docs/upstream.md
# ("Speed"). Patches containers/image (hack/upstream-apply.sh; or uses
# $CPS_UPSTREAM_TREE), then runs BenchmarkPluginRequirementCost in
# internal/upstreamcheck: one process copies a small key-signed image from a
# loopback registry with copy.Image, alternately under sigstoreSigned and under
# the plugin requirement checking the same signature, ROUNDS times (default 31,
# at least 15), and reports the medians and the median paired difference.
# Numbers depend on the machine and its load: the load average is printed
# with them.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-31}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tree=${CPS_UPSTREAM_TREE:-}
if [ -z "$tree" ]; then
	tree=$tmp/image
	hack/upstream-apply.sh "$tree" >&2
fi

echo "# $(uname -srm), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
GOFLAGS=-tags=containers_image_openpgp CPS_UPSTREAM_TREE=$tree UPSTREAM_BENCH_ROUNDS=$rounds \
	go test -count=1 -run '^$' -bench '^BenchmarkPluginRequirementCost$' -benchtime 1x -v ./internal/upstreamcheck |
	grep -E '^(Benchmark|ok|FAIL|PASS)|paired rounds' | sed 's/^ *speed_test.go:[0-9]*: /# /'
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
