package check

import (
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/policy-plugins/sigstore/internal/registry"
)

func TestParsePlatformSplitsAsPodmanPull(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Platform
		err  bool
	}{
		{in: "", want: Platform{}},
		{in: "all", want: Platform{All: true}},
		{in: "linux/arm64", want: Platform{OS: "linux", Architecture: "arm64"}},
		{in: "linux/arm/v7", want: Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		// podman: each part may be empty, for this machine's.
		{in: "linux", want: Platform{OS: "linux"}},
		{in: "/arm64", want: Platform{Architecture: "arm64"}},
		{in: "linux//v8", want: Platform{OS: "linux", Variant: "v8"}},
		// podman ignores a fourth part; check refuses it.
		{in: "linux/arm64/v8/x", err: true},
		// "all" only as the whole value.
		{in: "all/amd64", want: Platform{OS: "all", Architecture: "amd64"}},
	} {
		got, err := ParsePlatform(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParsePlatform(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.err)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("ParsePlatform(%q).String() = %q, want it back", tt.in, got.String())
		}
	}
}

func TestInstancePlatformIsTheIndexEntrys(t *testing.T) {
	index := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + hex('a') + `","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + hex('b') + `","size":1,"platform":{"os":"unknown","architecture":"unknown"}},
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + hex('c') + `","size":1}]}`)
	m := registry.Manifest{Bytes: index, MIMEType: "application/vnd.oci.image.index.v1+json", Digest: digest.FromBytes(index)}
	for d, want := range map[byte]string{'a': "linux/arm64/v8", 'b': "unknown/unknown", 'c': "", 'd': ""} {
		if got := instancePlatform(m, digest.Digest("sha256:"+hex(d))); got != want {
			t.Errorf("instance %c: platform %q, want %q", d, got, want)
		}
	}
}

func hex(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}
