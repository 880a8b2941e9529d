// Package policies holds no code: its tests keep the example policies in this
// directory true. Every example is parsed as a host parses it, its plugin
// configs validated, and each plugin requirement exercised with generated
// signatures of the identity it names (accepted) and of a near miss
// (rejected), so an example cannot rot.
package policies

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/internal/policy"
	"github.com/policy-plugins/sigstore/plugin"
	"github.com/policy-plugins/sigstore/protocol"
)

// scopeFor parses an example as a plugin-aware host would and
// returns the requirements of the scope containers/image chooses for image.
func scopeFor(t *testing.T, policyJSON []byte, image string) policy.Scope {
	t.Helper()
	p, errs := policy.Parse(policyJSON)
	if len(errs) > 0 {
		t.Fatalf("the policy does not parse: %v", errs)
	}
	ref, err := docker.ParseReference("//" + image)
	if err != nil {
		t.Fatal(err)
	}
	return p.Lookup(ref)
}

func TestExamplesVerify(t *testing.T) {
	// exercised[file][requirement path] records the verdicts seen, so that
	// every plugin requirement is shown to accept and to reject.
	exercised := map[string]map[string]map[bool]bool{}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.policy+": "+c.name, "/", "_"), func(t *testing.T) {
			raw, err := os.ReadFile(c.policy)
			if err != nil {
				t.Fatal(err)
			}
			scope := scopeFor(t, rewritePolicy(t, raw), c.image)
			if scope.IsDefault() {
				t.Fatalf("%s matches no scope of %s: the example's scope is wrong", c.image, c.policy)
			}
			manifest := fixture.OCIManifest(c.name)
			manifestDigest, err := fixture.ManifestDigest(manifest)
			if err != nil {
				t.Fatal(err)
			}
			named, err := reference.ParseNormalizedNamed(c.image)
			if err != nil {
				t.Fatal(err)
			}
			dockerRef := named.String()
			image := protocol.Image{
				Transport:        "docker",
				DockerReference:  &dockerRef,
				Manifest:         manifest,
				ManifestMIMEType: "application/vnd.oci.image.manifest.v1+json",
			}
			signatures := []protocol.Signature{signature(t, c.deployment, c.signer, c.signedRef, manifestDigest)}
			if layout := indexLayouts[c.name]; layout != "" {
				// The signature is the index's; the image itself has none.
				listed := manifest
				if layout == "unlisted" {
					listed = fixture.OCIManifest(c.name + ", another build")
				}
				index := buildxIndex(t, listed)
				indexDigest, err := fixture.ManifestDigest(index)
				if err != nil {
					t.Fatal(err)
				}
				signatures = []protocol.Signature{}
				if layout != "instance-digest" {
					image.Index = &protocol.Index{
						Manifest: index, ManifestMIMEType: "application/vnd.oci.image.index.v1+json",
						Signatures: []protocol.Signature{signature(t, c.deployment, c.signer, c.signedRef, indexDigest)},
					}
				}
			}

			for _, r := range scope.Requirements {
				if !r.IsPlugin() || r.Plugin != plugin.Name {
					t.Fatalf("%s: the examples use only the sigstore plugin in scopes they test, found %s", r.Path, r.Type)
				}
				if _, errs, warnings := plugin.ParseConfig(r.Config); len(errs)+len(warnings) > 0 {
					t.Fatalf("%s: config errors %v, warnings %v", r.Path, errs, warnings)
				}
				resp, err := plugin.Evaluate(&protocol.VerifyRequest{
					APIVersion: protocol.APIVersion,
					Kind:       protocol.KindVerifyRequest,
					Config:     r.Config,
					Image:      image,
					Signatures: signatures,
				})
				if err != nil {
					t.Fatalf("%s: %v", r.Path, err)
				}
				accepted := resp.Verdict == protocol.VerdictAccept
				if accepted != c.accept || !strings.Contains(resp.Reason, c.reason) {
					t.Fatalf("%s: got %s %q, want accept=%v with %q", r.Path, resp.Verdict, resp.Reason, c.accept, c.reason)
				}
				if exercised[c.policy] == nil {
					exercised[c.policy] = map[string]map[bool]bool{}
				}
				if exercised[c.policy][r.Path] == nil {
					exercised[c.policy][r.Path] = map[bool]bool{}
				}
				exercised[c.policy][r.Path][accepted] = true
			}
		})
	}

	// Every plugin requirement of every example accepted and rejected.
	for _, file := range policyFiles(t) {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		p, errs := policy.Parse(rewritePolicy(t, raw))
		if len(errs) > 0 {
			t.Errorf("%s: %v", file, errs)
			continue
		}
		for _, s := range allScopes(p) {
			for _, r := range s.Requirements {
				if !r.IsPlugin() {
					continue
				}
				seen := exercised[file][r.Path]
				if !seen[true] || !seen[false] {
					t.Errorf("%s %s: no case shows it accepting and rejecting (accepted: %v, rejected: %v); add cases in examples_test.go", file, r.Path, seen[true], seen[false])
				}
			}
		}
	}
}

// policyFiles are the example policies that hold plugin requirements: every
// *.json under policies/ except before.json, the built-in starting point of
// the migration (TestMigrationMovesTheBlockUnchanged).
func policyFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") && d.Name() != "before.json" {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("found only %v: run the tests from policies/", files)
	}
	slices.Sort(files)
	return files
}

func allScopes(p *policy.Policy) []policy.Scope {
	scopes := []policy.Scope{p.Default}
	for _, byName := range p.Transports {
		for _, s := range byName {
			scopes = append(scopes, s)
		}
	}
	return scopes
}

// The migration example claims step 1 is the sigstoreSigned block moved into
// config unchanged; a drift between the two files would make that a lie.
func TestMigrationMovesTheBlockUnchanged(t *testing.T) {
	before := readJSON(t, "migrate-sigstoresigned/before.json")
	after := readJSON(t, "migrate-sigstoresigned/step1-moved.json")
	const scope = "quay.io/example/app"
	builtin := before["transports"].(map[string]any)["docker"].(map[string]any)[scope].([]any)[0].(map[string]any)
	moved := after["transports"].(map[string]any)["docker"].(map[string]any)[scope].([]any)[0].(map[string]any)
	if builtin["type"] != "sigstoreSigned" || moved["type"] != "plugin" || moved["plugin"] != plugin.Name {
		t.Fatalf("before is %v, step 1 is %v", builtin["type"], moved["type"])
	}
	delete(builtin, "type")
	want, _ := json.Marshal(builtin)
	got, _ := json.Marshal(moved["config"])
	if string(got) != string(want) {
		t.Fatalf("step 1's config is not the sigstoreSigned block without its type:\n got %s\nwant %s", got, want)
	}
	// And before.json is what today's containers/image accepts.
	if _, errs := policy.Parse(rewritePolicy(t, mustRead(t, "migrate-sigstoresigned/before.json"))); len(errs) > 0 {
		t.Fatalf("before.json: %v", errs)
	}
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(mustRead(t, path), &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Every example directory explains itself: a README next to its policy.
func TestExamplesHaveReadmes(t *testing.T) {
	dirs := map[string]bool{}
	for _, f := range policyFiles(t) {
		dirs[filepath.Dir(f)] = true
	}
	for dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
			t.Errorf("%s has no README.md", dir)
		}
	}
}

// buildxIndex is the OCI index docker buildx pushes for one platform: the
// image (manifest) for linux/amd64 and a provenance attestation manifest
// for it (platform unknown/unknown).
func buildxIndex(t *testing.T, manifest []byte) []byte {
	t.Helper()
	imageDigest, err := fixture.ManifestDigest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	attestation := fixture.OCIManifest("provenance of " + imageDigest)
	attestationDigest, err := fixture.ManifestDigest(attestation)
	if err != nil {
		t.Fatal(err)
	}
	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests": []any{
			map[string]any{
				"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": imageDigest, "size": len(manifest),
				"platform": map[string]string{"os": "linux", "architecture": "amd64"},
			},
			map[string]any{
				"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": attestationDigest, "size": len(attestation),
				"platform":    map[string]string{"os": "unknown", "architecture": "unknown"},
				"annotations": map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": imageDigest},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return index
}
