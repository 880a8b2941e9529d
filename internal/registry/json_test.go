package registry

import "testing"

func TestIsBundleMediaType(t *testing.T) {
	for _, mt := range []string{
		"application/vnd.dev.sigstore.bundle.v0.3+json",
		"application/vnd.dev.sigstore.bundle+json;version=0.3",
		"application/vnd.dev.sigstore.bundle+json;version=0.2",
		"application/vnd.dev.sigstore.bundle+json;version=0.1",
	} {
		if !IsBundleMediaType(mt) {
			t.Errorf("IsBundleMediaType(%q) = false", mt)
		}
	}
	for _, mt := range []string{
		"", "application/json", "application/vnd.dev.cosign.artifact.sig.v1+json",
		"application/vnd.dev.sigstore.bundle.v0.3+json ", "APPLICATION/VND.DEV.SIGSTORE.BUNDLE.V0.3+JSON",
		"application/vnd.dev.sigstore.bundle+json", "application/vnd.dev.sigstore.bundle+json;version=0.4",
	} {
		if IsBundleMediaType(mt) {
			t.Errorf("IsBundleMediaType(%q) = true", mt)
		}
	}
}
