package policies

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

// trustDir is where the examples say trust files live; the tests replace it
// with a directory of generated files, so the examples keep the paths an
// operator would write.
const trustDir = "/etc/containers/sigstore/"

// The examples use two Sigstore deployments: the public-good one (files
// directly in trustDir) and a private one (trustDir/private/), as a
// self-managed GitLab would use. Each is a generated fixture.Instance.
const (
	public  = "public"
	private = "private"
)

var (
	instancesOnce sync.Once
	instances     map[string]*fixture.Instance
	instancesErr  error
)

func instance(t *testing.T, name string) *fixture.Instance {
	t.Helper()
	instancesOnce.Do(func() {
		instances = map[string]*fixture.Instance{}
		for _, n := range []string{public, private} {
			if instances[n], instancesErr = fixture.NewInstance(); instancesErr != nil {
				return
			}
		}
	})
	if instancesErr != nil {
		t.Fatal(instancesErr)
	}
	return instances[name]
}

// trustFiles maps every trust file an example may name (relative to trustDir)
// to its generated content. An example naming any other file fails the test.
func trustFiles(t *testing.T) map[string][]byte {
	pub, priv := instance(t, public), instance(t, private)
	pubRoot, err := pub.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	privRoot, err := priv.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"trusted_root.json":         pubRoot,
		"fulcio_v1.crt.pem":         pub.FulcioRootPEM(),
		"rekor.pub":                 pub.RekorPublicKeyPEM(),
		"private/trusted_root.json": privRoot,
	}
}

var trustPathRE = regexp.MustCompile(regexp.QuoteMeta(trustDir) + `[^"]*`)

// rewritePolicy writes the example's trust files into a temporary directory
// and returns the policy with trustDir replaced by that directory.
func rewritePolicy(t *testing.T, policy []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	files := trustFiles(t)
	for _, p := range trustPathRE.FindAll(policy, -1) {
		rel := strings.TrimPrefix(string(p), trustDir)
		data, ok := files[rel]
		if !ok {
			t.Fatalf("the policy names %s, which the tests do not generate: add it to trustFiles", p)
		}
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return []byte(strings.ReplaceAll(string(policy), trustDir, dir+"/"))
}

// signature makes one signature of manifestDigest by a leaf with the given
// identity, from the named deployment: a cosign v2 attachment layer naming
// signedRef, or a cosign v3 bundle (which names no image) when signedRef is "".
func signature(t *testing.T, deployment string, leafOpts fixture.LeafOptions, signedRef, manifestDigest string) protocol.Signature {
	t.Helper()
	in := instance(t, deployment)
	leaf, err := in.IssueLeaf(leafOpts)
	if err != nil {
		t.Fatal(err)
	}
	if signedRef == "" {
		b, err := in.SignBundle(leaf, fixture.BundleOptions{ManifestDigest: manifestDigest})
		if err != nil {
			t.Fatal(err)
		}
		return protocol.Signature{
			Format:    protocol.FormatSigstoreBundle,
			MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
			Bundle:    json.RawMessage(b),
		}
	}
	sig, err := in.SignLegacy(leaf, fixture.CosignPayload(signedRef, manifestDigest), fixture.LegacyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return protocol.Signature{
		Format:      protocol.FormatSigstoreJSON,
		MIMEType:    sig.MIMEType,
		Payload:     sig.Payload,
		Annotations: sig.Annotations,
	}
}
