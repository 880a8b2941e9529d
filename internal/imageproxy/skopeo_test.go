package imageproxy_test

import (
	"testing"

	"github.com/policy-plugins/sigstore/internal/upstreamclients"
)

// skopeo is the skopeo the tests drive: the one `make upstream-clients`
// builds against containers/image as released (the protocol is skopeo's,
// not the patch series').
func skopeo(t *testing.T) string {
	t.Helper()
	return upstreamclients.Binary(t, upstreamclients.PristineSkopeo)
}
