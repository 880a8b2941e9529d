// Package e2e is test support for end-to-end tests against real tools: a
// real registry (Debian's docker-registry) on loopback, skopeo to push
// images, cosign to sign them in its own registry layouts.
//
// Every helper takes a testing.TB and fails the test on error. A missing
// tool fails the test with a message naming hack/install-deps.sh; it is never
// skipped. Tests that use these helpers call SkipIfShort first, so that
// `go test -short ./...` stays fast. hack/README.md documents the registry
// layouts cosign produces, as these tests observe them, and the layouts of
// multi-platform images PushLayouts pushes for every client's end-to-end tests.
package e2e
