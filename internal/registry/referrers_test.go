package registry_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/internal/registry"
)

const bundleV03 = "application/vnd.dev.sigstore.bundle.v0.3+json"

// fallbackEntries lists the referrers tag index of d.
func fallbackEntries(t *testing.T, repository, d string) []e2e.OCIDescriptor {
	t.Helper()
	return e2e.ParseManifest(t, first(e2e.GetManifest(t, repository, e2e.FallbackTag(d)))).Manifests
}

// wantBundles checks got are exactly the bundles of the referrers in the
// referrers tag of d, in its order.
func wantBundles(t *testing.T, got []registry.Bundle, repository, d string) {
	t.Helper()
	entries := fallbackEntries(t, repository, d)
	if len(got) != len(entries) {
		t.Fatalf("got %d bundles, the referrers tag lists %d", len(got), len(entries))
	}
	for i, b := range got {
		m := e2e.ParseManifest(t, first(e2e.GetManifest(t, repository, entries[i].Digest)))
		stored := e2e.GetBlob(t, repository, m.Layers[0].Digest)
		if b.Referrer.String() != entries[i].Digest || b.MediaType != entries[i].ArtifactType || !bytes.Equal(b.JSON, stored) {
			t.Errorf("bundle %d = {%s %s %.40s...}, want referrer %s, %s, the stored bundle", i, b.Referrer, b.MediaType, b.JSON, entries[i].Digest, entries[i].ArtifactType)
		}
	}
}

func TestBundlesOfSignedImage(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	pushed := e2e.PushImage(t, addr+"/team/app:1.4")
	key := e2e.GenerateKeyPair(t)
	e2e.SignBundle(t, key, pushed.DigestRef())
	e2e.SignBundle(t, e2e.GenerateKeyPair(t), pushed.DigestRef())

	got, err := bundlesOf(t, open(t, pushed.Ref, testOptions(t)), digest.Digest(pushed.Digest))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d bundles, want 2", len(got))
	}
	for _, b := range got {
		var v struct {
			MediaType string `json:"mediaType"`
		}
		if err := json.Unmarshal(b.JSON, &v); err != nil || v.MediaType != bundleV03 || b.MediaType != bundleV03 {
			t.Errorf("bundle %s: media type %q, JSON mediaType %q (%v); want %s", b.Referrer, b.MediaType, v.MediaType, err, bundleV03)
		}
	}
	wantBundles(t, got, pushed.Repository, pushed.Digest)

	t.Run("is empty for an unsigned image", func(t *testing.T) {
		unsigned := e2e.PushImage(t, addr+"/team/app:unsigned")
		got, err := bundlesOf(t, open(t, unsigned.Ref, testOptions(t)), digest.Digest(unsigned.Digest))
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("Bundles = %v, %v; want an empty list and no error", got, err)
		}
	})
	t.Run("ignores legacy .sig signatures", func(t *testing.T) {
		legacy := e2e.PushImage(t, addr+"/team/app:legacy")
		e2e.SignLegacy(t, key, legacy.DigestRef())
		got, err := bundlesOf(t, open(t, legacy.Ref, testOptions(t)), digest.Digest(legacy.Digest))
		if err != nil || len(got) != 0 {
			t.Errorf("Bundles = %v, %v; want none", got, err)
		}
	})
	t.Run("rejects a malformed digest", func(t *testing.T) {
		if got, err := bundlesOf(t, open(t, pushed.Ref, testOptions(t)), "sha256:short"); err == nil {
			t.Errorf("Bundles(sha256:short) = %v, want an error", got)
		}
	})
}

func TestBundlesFromReferrersAPI(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{ReferrersAPI: true})
	pushed := e2e.PushImage(t, addr+"/team/app:1.4")
	key := e2e.GenerateKeyPair(t)
	e2e.SignBundle(t, key, pushed.DigestRef())
	e2e.SignLegacy(t, key, pushed.DigestRef())
	if status := e2e.ManifestStatus(t, pushed.Repository, e2e.FallbackTag(pushed.Digest)); status != 404 {
		t.Fatalf("referrers tag: status %d; with the API cosign should write none", status)
	}

	got, err := bundlesOf(t, open(t, pushed.Ref, testOptions(t)), digest.Digest(pushed.Digest))
	if err != nil {
		t.Fatal(err)
	}
	index := e2e.ParseManifest(t, first(e2e.GetReferrers(t, pushed.Repository, pushed.Digest)))
	if len(got) != 1 || len(index.Manifests) != 1 {
		t.Fatalf("got %d bundles, the referrers API lists %d referrers; want 1 and 1", len(got), len(index.Manifests))
	}
	m := e2e.ParseManifest(t, first(e2e.GetManifest(t, pushed.Repository, index.Manifests[0].Digest)))
	if got[0].Referrer.String() != index.Manifests[0].Digest || got[0].MediaType != bundleV03 ||
		!bytes.Equal(got[0].JSON, e2e.GetBlob(t, pushed.Repository, m.Layers[0].Digest)) {
		t.Errorf("bundle = {%s %s}, want the one the API lists, %s", got[0].Referrer, got[0].MediaType, index.Manifests[0].Digest)
	}
}

func TestBundlesOfIndexAndInstances(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	pushed := e2e.PushIndex(t, addr+"/team/multi:2")
	key := e2e.GenerateKeyPair(t)
	e2e.SignBundle(t, key, pushed.DigestRef())
	e2e.SignBundle(t, key, pushed.InstanceRef(0))
	img := open(t, pushed.Ref, testOptions(t))

	for _, tc := range []struct {
		name, digest string
		signed       bool
	}{
		{"the index", pushed.Digest, true},
		{"the signed amd64 instance", pushed.Instances[0].Digest, true},
		{"the unsigned arm64 instance", pushed.Instances[1].Digest, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bundlesOf(t, img, digest.Digest(tc.digest))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.signed {
				if len(got) != 0 {
					t.Errorf("got %d bundles of an unsigned manifest", len(got))
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d bundles, want 1", len(got))
			}
			wantBundles(t, got, pushed.Repository, tc.digest)
			if !bytes.Contains(got[0].JSON, []byte(`"mediaType":"`+bundleV03+`"`)) {
				t.Errorf("bundle %s is not a v0.3 bundle", got[0].JSON)
			}
		})
	}
}

// referrer is a referrer manifest to plant in a registry, shaped like
// cosign's, for cases no tool writes.
type referrer struct {
	manifest map[string]any
	entry    e2e.OCIDescriptor // its entry in the referrers tag index
}

// newReferrer makes a cosign-shaped bundle referrer of subject holding bundle.
func newReferrer(t *testing.T, repository string, subject e2e.OCIDescriptor, artifactType string, bundle []byte) *referrer {
	t.Helper()
	config := e2e.PutBlob(t, repository, []byte("{}"))
	layer := e2e.PutBlob(t, repository, bundle)
	return &referrer{manifest: map[string]any{
		"schemaVersion": 2,
		"mediaType":     e2e.MediaTypeOCIManifest,
		"artifactType":  artifactType,
		"config":        e2e.OCIDescriptor{MediaType: "application/vnd.oci.empty.v1+json", Digest: config, Size: 2},
		"layers":        []e2e.OCIDescriptor{{MediaType: artifactType, Digest: layer, Size: int64(len(bundle))}},
		"subject":       subject,
	}, entry: e2e.OCIDescriptor{MediaType: e2e.MediaTypeOCIManifest, ArtifactType: artifactType}}
}

// push stores the manifest by digest and fills in r.entry.
func (r *referrer) push(t *testing.T, repository string) e2e.OCIDescriptor {
	t.Helper()
	data, err := json.Marshal(r.manifest)
	if err != nil {
		t.Fatal(err)
	}
	d := e2e.PutManifest(t, repository, e2e.Digest(data), e2e.MediaTypeOCIManifest, data)
	r.entry.Digest, r.entry.Size = d, int64(len(data))
	return r.entry
}

// putReferrersTag writes the referrers tag index of subject.
func putReferrersTag(t *testing.T, repository, subject string, entries ...e2e.OCIDescriptor) {
	t.Helper()
	data, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": e2e.MediaTypeOCIIndex, "manifests": entries})
	if err != nil {
		t.Fatal(err)
	}
	e2e.PutManifest(t, repository, e2e.FallbackTag(subject), e2e.MediaTypeOCIIndex, data)
}

const validBundle = `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{},"messageSignature":{}}`

func TestBundlesFromPlantedReferrers(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})

	for _, tc := range []struct {
		name string
		// edit changes the referrer before it is pushed; entries may add
		// more index entries after it.
		edit    func(t *testing.T, repo string, r *referrer)
		entries func(t *testing.T, repo string, mine e2e.OCIDescriptor) []e2e.OCIDescriptor
		// after runs once the referrers tag is written.
		after func(t *testing.T, repo string, entries []e2e.OCIDescriptor)
		// want is the number of bundles returned, or -1 for an error
		// containing wantErr.
		want    int
		wantErr string
		// bundle is the JSON of the bundles returned, validBundle if empty.
		bundle string
	}{
		{name: "a cosign-shaped referrer is returned", want: 1},
		{
			name: "the older bundle media type spelling is returned",
			edit: func(t *testing.T, repo string, r *referrer) {
				const old = "application/vnd.dev.sigstore.bundle+json;version=0.2"
				r.manifest["artifactType"] = old
				r.manifest["layers"].([]e2e.OCIDescriptor)[0].MediaType = old
				r.entry.ArtifactType = old
			},
			want: 1,
		},
		{
			name: "an SBOM referrer is ignored",
			edit: func(t *testing.T, repo string, r *referrer) {
				r.manifest["artifactType"] = "application/spdx+json"
				r.manifest["layers"] = []e2e.OCIDescriptor{{MediaType: "application/spdx+json", Digest: e2e.PutBlob(t, repo, []byte("not json")), Size: 8}}
				r.entry.ArtifactType = "application/spdx+json"
			},
			want: 0,
		},
		{
			name: "a duplicate index entry is returned once",
			entries: func(t *testing.T, repo string, mine e2e.OCIDescriptor) []e2e.OCIDescriptor {
				return []e2e.OCIDescriptor{mine, mine}
			},
			want: 1,
		},
		{
			name: "a referrer of another manifest is an error",
			edit: func(t *testing.T, repo string, r *referrer) {
				r.manifest["subject"] = e2e.OCIDescriptor{MediaType: e2e.MediaTypeOCIManifest, Digest: e2e.Digest([]byte("other")), Size: 5}
			},
			want: -1, wantErr: "subject",
		},
		{
			name: "a referrer with no subject is an error",
			edit: func(t *testing.T, repo string, r *referrer) { delete(r.manifest, "subject") },
			want: -1, wantErr: "subject",
		},
		{
			name: "a manifest whose artifactType differs from its index entry is an error",
			edit: func(t *testing.T, repo string, r *referrer) { r.manifest["artifactType"] = "application/spdx+json" },
			want: -1, wantErr: "artifactType",
		},
		{
			name: "two layers are an error",
			edit: func(t *testing.T, repo string, r *referrer) {
				l := r.manifest["layers"].([]e2e.OCIDescriptor)
				r.manifest["layers"] = []e2e.OCIDescriptor{l[0], l[0]}
			},
			want: -1, wantErr: "2 layers",
		},
		{
			name: "a layer of another media type is an error",
			edit: func(t *testing.T, repo string, r *referrer) {
				r.manifest["layers"].([]e2e.OCIDescriptor)[0].MediaType = "application/json"
			},
			want: -1, wantErr: "layer media type",
		},
		{
			// As containers/image returns it: whether plugins can be sent it
			// is the caller's to say, and an error would hide the others.
			name: "a bundle that is not a JSON object is returned as it is",
			edit: func(t *testing.T, repo string, r *referrer) {
				data := []byte(`["not", "an", "object"] x`)
				r.manifest["layers"].([]e2e.OCIDescriptor)[0].Digest = e2e.PutBlob(t, repo, data)
				r.manifest["layers"].([]e2e.OCIDescriptor)[0].Size = int64(len(data))
			},
			want: 1, bundle: `["not", "an", "object"] x`,
		},
		{
			name: "a bundle larger than MaxBundleSize is an error",
			edit: func(t *testing.T, repo string, r *referrer) {
				data := append([]byte(`{"x":"`), bytes.Repeat([]byte("a"), registry.MaxBundleSize)...)
				data = append(data, `"}`...)
				r.manifest["layers"].([]e2e.OCIDescriptor)[0].Digest = e2e.PutBlob(t, repo, data)
				r.manifest["layers"].([]e2e.OCIDescriptor)[0].Size = int64(len(data))
			},
			want: -1, wantErr: "want 1 to 4194304",
		},
		{
			name: "a bundle shorter than its descriptor says is an error",
			edit: func(t *testing.T, repo string, r *referrer) {
				r.manifest["layers"].([]e2e.OCIDescriptor)[0].Size += 10
			},
			want: -1, wantErr: "bytes",
		},
		{
			name: "an index entry whose manifest was deleted is skipped",
			entries: func(t *testing.T, repo string, mine e2e.OCIDescriptor) []e2e.OCIDescriptor {
				// Another referrer of the same subject, listed first.
				var subject e2e.OCIDescriptor
				data, _ := e2e.GetManifest(t, repo, mine.Digest)
				subject = *e2e.ParseManifest(t, data).Subject
				gone := newReferrer(t, repo, subject, bundleV03, []byte(`{"gone":true}`))
				return []e2e.OCIDescriptor{gone.push(t, repo), mine}
			},
			after: func(t *testing.T, repo string, entries []e2e.OCIDescriptor) {
				e2e.DeleteManifest(t, repo, entries[0].Digest)
			},
			want: 1,
		},
		{
			name: "an index entry of another size than its manifest is an error",
			entries: func(t *testing.T, repo string, mine e2e.OCIDescriptor) []e2e.OCIDescriptor {
				mine.Size--
				return []e2e.OCIDescriptor{mine}
			},
			want: -1, wantErr: "does not match its descriptor",
		},
		{
			name: "an index entry that is not an image manifest is an error",
			entries: func(t *testing.T, repo string, mine e2e.OCIDescriptor) []e2e.OCIDescriptor {
				mine.MediaType = e2e.MediaTypeOCIIndex
				return []e2e.OCIDescriptor{mine}
			},
			want: -1, wantErr: "media type",
		},
		{
			// Only bundle referrers count against the budget (protocol.SignatureBudget).
			name: "a thousand referrers of other types are ignored",
			entries: func(t *testing.T, repo string, mine e2e.OCIDescriptor) []e2e.OCIDescriptor {
				entries := []e2e.OCIDescriptor{mine}
				for i := range 1000 {
					// The registry checks that listed manifests exist: list mine
					// again, as something else.
					other := mine
					other.ArtifactType = fmt.Sprintf("application/vnd.example.%d", i)
					entries = append(entries, other)
				}
				return entries
			},
			want: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := strings.ToLower(strings.NewReplacer(" ", "-", ",", "").Replace(tc.name))
			pushed := e2e.PushImage(t, addr+"/planted/"+repo+":1")
			subject := e2e.OCIDescriptor{MediaType: e2e.MediaTypeOCIManifest, Digest: pushed.Digest, Size: int64(len(pushed.Manifest))}
			r := newReferrer(t, pushed.Repository, subject, bundleV03, []byte(validBundle))
			if tc.edit != nil {
				tc.edit(t, pushed.Repository, r)
			}
			entries := []e2e.OCIDescriptor{r.push(t, pushed.Repository)}
			if tc.entries != nil {
				entries = tc.entries(t, pushed.Repository, entries[0])
			}
			putReferrersTag(t, pushed.Repository, pushed.Digest, entries...)
			if tc.after != nil {
				tc.after(t, pushed.Repository, entries)
			}

			got, err := bundlesOf(t, open(t, pushed.Ref, testOptions(t)), digest.Digest(pushed.Digest))
			if tc.want < 0 {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Bundles = %v, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want {
				t.Fatalf("got %d bundles, want %d", len(got), tc.want)
			}
			for _, b := range got {
				if b.MediaType != r.entry.ArtifactType || !slices.Contains(registry.BundleMediaTypes, b.MediaType) || b.Referrer.String() != r.entry.Digest {
					t.Errorf("bundle = {%s %s}, want referrer %s, %s", b.MediaType, b.Referrer, r.entry.Digest, r.entry.ArtifactType)
				}
				want := tc.bundle
				if want == "" {
					want = validBundle
				}
				if !bytes.Equal(b.JSON, []byte(want)) {
					t.Errorf("bundle JSON %s, want %s", b.JSON, want)
				}
			}
		})
	}
}
