package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/fixture"
)

// Policy requirements as policy.json spells them, for end-to-end tests that
// write their own policy (Layouts.PluginPolicy writes the layout table's).

// PluginRequirement is a plugin requirement naming plugin, with config (JSON).
func PluginRequirement(plugin, config string) string {
	return fmt.Sprintf(`{"type": "plugin", "plugin": %q, "config": %s}`, plugin, config)
}

// KeyConfig is the sigstore plugin's config trusting a cosign public key,
// with a signedIdentity of the given type (matchRepository for cosign's
// legacy payload, digestOnly for a bundle, which names no image).
func KeyConfig(key KeyPair, signedIdentity string) string {
	return fmt.Sprintf(`{"keyPath": %q, "signedIdentity": {"type": %q}}`, key.PublicKey, signedIdentity)
}

// SigstoreSigned is containers/image's built-in requirement for a cosign key.
func SigstoreSigned(key KeyPair) string {
	return fmt.Sprintf(`{"type": "sigstoreSigned", "keyPath": %q, "signedIdentity": {"type": "matchRepository"}}`, key.PublicKey)
}

// GitLabConfig is the sigstore plugin's config trusting in's Sigstore
// instance (its trusted root, written to a file) for one GitLab CI identity.
func GitLabConfig(t testing.TB, in *fixture.Instance, subjectURI string) string {
	t.Helper()
	trustedRoot, err := in.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(path, trustedRoot, 0o644); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`{"trustedRootPath": %q,
  "identities": [{"issuer": "https://gitlab.com", "subjectURI": %q}],
  "signedIdentity": {"type": "matchRepository"}}`, path, subjectURI)
}

// WritePolicy writes a policy.json that rejects by default and holds, for
// each docker scope in scopes, its requirements (each one JSON), and returns
// its path. A requirement that is not JSON fails t.
func WritePolicy(t testing.TB, scopes map[string][]string) string {
	t.Helper()
	docker := map[string][]json.RawMessage{}
	for scope, requirements := range scopes {
		docker[scope] = []json.RawMessage{}
		for _, r := range requirements {
			if !json.Valid([]byte(r)) {
				t.Fatalf("e2e: requirement for %s is not JSON: %s", scope, r)
			}
			docker[scope] = append(docker[scope], json.RawMessage(r))
		}
	}
	data, err := json.MarshalIndent(map[string]any{
		"default":    []any{map[string]string{"type": "reject"}},
		"transports": map[string]any{"docker": docker},
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// WriteRegistriesD writes a registries.d directory turning on cosign
// attachments (and so referrers) for the registry at addr, or off, and
// returns it: without it containers/image reads no sigstore signature.
func WriteRegistriesD(t testing.TB, addr string, attachments bool) string {
	t.Helper()
	dir := t.TempDir()
	yaml := fmt.Sprintf("docker:\n  %s:\n    use-sigstore-attachments: %t\n", addr, attachments)
	if err := os.WriteFile(filepath.Join(dir, "test.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// OCILayoutBlob reads the blob digest of the OCI layout directory layout
// (what a copy into oci:LAYOUT wrote); a missing blob, or one with another
// digest, fails t.
func OCILayoutBlob(t testing.TB, layout, digest string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(layout, "blobs", strings.Replace(digest, ":", "/", 1)))
	if err != nil {
		t.Fatalf("blob %s: %v", digest, err)
	}
	if got := Digest(data); got != digest {
		t.Fatalf("blob %s has digest %s", digest, got)
	}
	return data
}
