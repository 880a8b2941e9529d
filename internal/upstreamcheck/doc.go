// Package upstreamcheck holds what the real clients cannot show of the
// containers/image patch series: the paired speed measurement of
// docs/upstream.md ("Speed"), BenchmarkPluginRequirementCost, which times
// policy loading and copy.Image apart within one process, and TestBenchRuns,
// which keeps that benchmark working between its runs. Every verdict of the
// series is proven through real podman, skopeo and skopeo's image proxy, in
// internal/realclients.
//
// The tests build the program in upstream/containers-image/e2e (a separate Go
// module, so that this module's go.mod never names the patched
// containers/image) against the patched module tree hack/upstream-apply.sh
// makes, and run it against a real registry on loopback holding an image
// pushed by skopeo and signed by cosign, with this repository's plugin
// installed in a plugin directory. They live here, in the main module,
// because they use internal/e2e, which another module cannot import.
//
// `make upstream-check` runs them through hack/upstream-e2e.sh on the tree it
// has already patched ($CPS_UPSTREAM_TREE); plain `go test` patches its own;
// hack/upstream-bench.sh runs the benchmark. They are skipped under -short.
package upstreamcheck
