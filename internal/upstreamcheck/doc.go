// Package upstreamcheck proves the containers/image patch series in
// upstream/containers-image end to end, in containers/image's own pull path.
//
// It has no code of its own, only tests. They build the program in
// upstream/containers-image/e2e (a separate Go module, so that this module's
// go.mod never names the patched containers/image) twice: against the patched
// module tree hack/upstream-apply.sh makes, and against the pristine module.
// Then they run it, as skopeo copy and as bootc's image proxy would run
// containers/image, against a real registry on loopback holding images pushed
// by skopeo and signed by cosign, with this repository's plugin installed in a
// plugin directory. The tests live here, in the main module, because they use
// internal/e2e and internal/fixture, which another module cannot import.
//
// `make upstream-check` runs them through hack/upstream-e2e.sh on the tree it
// has already patched ($CPS_UPSTREAM_TREE); plain `go test` patches its own.
// They are skipped under -short only.
package upstreamcheck
