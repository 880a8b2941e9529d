package registry_test

import (
	"fmt"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/internal/registry"
)

// wantSignaturesRead checks that containers/image and Attachments read the one attachment
// and Bundles the one bundle of ref exactly when read says so, and that
// Bundles says it looked exactly then.
func wantSignaturesRead(t *testing.T, ref string, opts registry.Options, d digest.Digest, read bool) {
	t.Helper()
	attachments, bundles, lookedFor := signaturesFound(t, ref, opts, d)
	want := 0
	if read {
		want = 1
	}
	if attachments != want || bundles != want || lookedFor != read {
		t.Errorf("containers/image read %d attachments; Bundles read %d bundles (looked: %t); want %d and %d (%t)",
			attachments, bundles, lookedFor, want, want, read)
	}
}

// signaturesFound opens ref with opts and fetches both kinds of signature of
// d: the attachments containers/image reads (its own registries.d lookup)
// and the bundles Bundles reads (registries.d restated, registriesd.go).
func signaturesFound(t *testing.T, ref string, opts registry.Options, d digest.Digest) (attachments int, bundles int, lookedFor bool) {
	t.Helper()
	img := open(t, ref, opts)
	a, err := img.Attachments(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	// Attachments reads with the project's client, under the budget;
	// containers/image's own reading is what it must agree with.
	byContainersImage, err := registry.AttachmentsByContainersImage(t.Context(), img, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(byContainersImage) != len(a) {
		t.Errorf("Attachments read %d attachments, containers/image %d", len(a), len(byContainersImage))
	}
	b, lookedFor, err := img.Bundles(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	if !lookedFor && b != nil {
		t.Errorf("Bundles returned %d bundles without looking", len(b))
	}
	return len(a), len(b), lookedFor
}

// containers/image reads cosign attachments, and with patch 0002 bundle
// referrers, only where registries.d's use-sigstore-attachments is on for
// the place it reads from. The attachments are containers/image's own
// decision; the bundles must follow the same one in every case.
func TestSignaturesFollowRegistriesD(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	pushed := e2e.PushImage(t, addr+"/team/app:1.4")
	key := e2e.GenerateKeyPair(t)
	e2e.SignLegacy(t, key, pushed.DigestRef())
	e2e.SignBundle(t, key, pushed.DigestRef())
	on, off := "use-sigstore-attachments: true", "use-sigstore-attachments: false"

	for _, tc := range []struct {
		name, yaml string
		want       bool
	}{
		{"default-docker enables them", "default-docker:\n  " + on + "\n", true},
		{"no configuration disables them", "", false},
		{"default-docker can disable them", "default-docker:\n  " + off + "\n", false},
		{"the registry's namespace enables them", "docker:\n  " + addr + ":\n    " + on + "\n", true},
		{"the repository's namespace enables them", "docker:\n  " + addr + "/team/app:\n    " + on + "\n", true},
		{"the image's identity, with its tag, enables them", "docker:\n  " + addr + "/team/app:1.4:\n    " + on + "\n", true},
		{"another tag's identity does not", "docker:\n  " + addr + "/team/app:2:\n    " + on + "\n", false},
		{"another repository's namespace does not", "docker:\n  " + addr + "/team/other:\n    " + on + "\n", false},
		{"the most specific namespace wins", "default-docker:\n  " + on + "\ndocker:\n  " + addr + "/team:\n    " + off + "\n", false},
		{"a more specific namespace can enable them", "default-docker:\n  " + off + "\ndocker:\n  " + addr + "/team:\n    " + on + "\n", true},
		{
			"a namespace that does not set it falls through to its parents",
			"docker:\n  " + addr + "/team/app:\n    lookaside-staging: file:///nonexistent\n  " + addr + ":\n    " + on + "\n", true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions(t)
			opts.RegistriesDir = registriesD(t, tc.yaml)
			wantSignaturesRead(t, pushed.Ref, opts, digest.Digest(pushed.Digest), tc.want)
		})
	}

	// containers/image decides for the place it reads from: a mirror is
	// looked up under its own name, not the registry's.
	t.Run("a mirror", func(t *testing.T) {
		conf := emptyFile(t, "registries.conf", fmt.Sprintf("[[registry]]\nprefix = %q\nlocation = %q\n"+
			"[[registry.mirror]]\nlocation = %q\ninsecure = true\n", "registry.example/team", "registry.example/team", addr+"/team"))
		for _, tc := range []struct {
			name, yaml string
			want       bool
		}{
			{"enabled for the mirror", "docker:\n  " + addr + "/team:\n    " + on + "\n", true},
			{"enabled for the registry only", "docker:\n  registry.example/team:\n    " + on + "\n", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				opts := testOptions(t)
				opts.Insecure = false
				opts.RegistriesConf = conf
				opts.RegistriesDir = registriesD(t, tc.yaml)
				wantSignaturesRead(t, "registry.example/team/app:1.4", opts, digest.Digest(pushed.Digest), tc.want)
			})
		}
	})
}
