package imageproxy_test

import (
	"os"
	"testing"
)

// skopeo is the skopeo binary the tests drive: $CPS_IMAGEPROXY_SKOPEO.
func skopeo(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("CPS_IMAGEPROXY_SKOPEO")
	if bin == "" {
		t.Fatal("CPS_IMAGEPROXY_SKOPEO is not set")
	}
	return bin
}
