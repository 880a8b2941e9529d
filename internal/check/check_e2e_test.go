package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/internal/registry"
)

// TestPlatformAllEvaluatesEveryInstanceInIndexOrder: --platform all
// evaluates each instance with the index as context, in index order, the
// instances a few at a time; the others, the one instance chosen for the
// platform.
func TestPlatformAllEvaluatesEveryInstanceInIndexOrder(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	img := e2e.PushIndex(t, addr+"/team/multi:1")
	host := describeHost(t)
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(policy, []byte(`{"default": [{"type": "insecureAcceptAnything"}, {"type": "plugin", "plugin": "describe", "config": {}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	registriesD := filepath.Join(dir, "registries.d")
	if err := os.MkdirAll(registriesD, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(registriesD, "r.yaml"), fmt.Appendf(nil, "docker:\n  %s:\n    use-sigstore-attachments: true\n", addr), 0o644); err != nil {
		t.Fatal(err)
	}
	// containers/image reads these when nothing names a file: keep the
	// machine's registries.conf and credentials out.
	for name, content := range map[string]string{"registries.conf": "", "auth.json": "{}"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("CONTAINERS_REGISTRIES_CONF", filepath.Join(dir, "registries.conf"))
	opts := Options{PolicyPath: policy, Host: host, Registry: registry.Options{RegistriesDir: registriesD, Insecure: true, AuthFile: filepath.Join(dir, "auth.json")}}

	for _, perCall := range []int{1, 4} {
		t.Run(fmt.Sprintf("%d instance at once", perCall), func(t *testing.T) {
			maxInstancesAtOnce = perCall
			t.Cleanup(func() { maxInstancesAtOnce = 4 })
			opts.Platform = Platform{All: true}
			r, err := Check(context.Background(), img.Ref, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Images) != len(img.Instances) {
				t.Fatalf("evaluated %d images, want the %d instances", len(r.Images), len(img.Instances))
			}
			for i, im := range r.Images {
				want := img.Instances[i]
				if im.Digest != want.Digest || im.Index != img.Digest || im.Platform != platformOf(want.Platform) ||
					len(im.Requirements) != 2 || im.Requirements[0].Outcome != OutcomeAccepted || im.Requirements[1].Outcome != OutcomeRejected {
					t.Errorf("image %d: %+v, want instance %s of %s judged by both requirements", i, im, want.Digest, img.Digest)
				}
			}
			if r.Accepted || r.Platform != "all" {
				t.Errorf("accepted %v, platform %q; want the describe plugin's rejection, for all", r.Accepted, r.Platform)
			}
		})
	}
	t.Run("linux/arm64", func(t *testing.T) {
		opts.Platform = Platform{OS: "linux", Architecture: "arm64"}
		r, err := Check(context.Background(), img.Ref, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Images) != 1 || r.Images[0].Digest != img.Instances[1].Digest || r.Images[0].Platform != "linux/arm64/v8" {
			t.Errorf("evaluated %+v, want the linux/arm64/v8 instance %s", r.Images, img.Instances[1].Digest)
		}
	})
	t.Run("a platform the index lacks", func(t *testing.T) {
		opts.Platform = Platform{OS: "linux", Architecture: "s390x"}
		_, err := Check(context.Background(), img.Ref, opts)
		var setup *SetupError
		if !errors.As(err, &setup) || !strings.Contains(err.Error(), `choosing an image from manifest list `+img.Ref+`: index `+img.Digest+`: no image found in image index for architecture "s390x"`) {
			t.Fatalf("error %v, want a SetupError saying no instance matches", err)
		}
	})
}

func platformOf(p e2e.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
