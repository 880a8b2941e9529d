package plugin

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

// testEnv is a test Sigstore instance with its trust files on disk and one image.
type testEnv struct {
	in              *fixture.Instance
	trustedRootPath string // trusted_root.json: Fulcio, Rekor, CT log, TSA
	fulcioRootPath  string // containers/image style caPath
	rekorKeyPath    string // containers/image style rekorPublicKeyPath
	manifest        []byte
	digest          string
	ref             string // the reference the user asks for
	repo            string // the repository, as cosign signs it
}

var (
	sharedEnvOnce sync.Once
	sharedEnv     *testEnv
	sharedEnvErr  error
)

// newTestEnv returns the package's shared instance: key generation and SCTs are not
// free, and the instance is immutable once made.
func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	sharedEnvOnce.Do(func() { sharedEnv, sharedEnvErr = makeTestEnv() })
	if sharedEnvErr != nil {
		t.Fatal(sharedEnvErr)
	}
	return sharedEnv
}

func makeTestEnv() (*testEnv, error) {
	in, err := fixture.NewInstance()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "plugin-test-env-")
	if err != nil {
		return nil, err
	}
	trustedRoot, err := in.TrustedRootJSON()
	if err != nil {
		return nil, err
	}
	env := &testEnv{
		in:              in,
		trustedRootPath: filepath.Join(dir, "trusted_root.json"),
		fulcioRootPath:  filepath.Join(dir, "fulcio-root.pem"),
		rekorKeyPath:    filepath.Join(dir, "rekor.pub"),
		manifest:        fixture.OCIManifest("app"),
		ref:             "registry.example.com/team/app:1.4",
		repo:            "registry.example.com/team/app",
	}
	for path, data := range map[string][]byte{
		env.trustedRootPath: trustedRoot,
		env.fulcioRootPath:  in.FulcioRootPEM(),
		env.rekorKeyPath:    in.RekorPublicKeyPEM(),
	} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, err
		}
	}
	if env.digest, err = fixture.ManifestDigest(env.manifest); err != nil {
		return nil, err
	}
	return env, nil
}

// leaf issues a certificate for a scenario.
func (env *testEnv) leaf(t testing.TB, opts fixture.LeafOptions) *fixture.Leaf {
	t.Helper()
	leaf, err := env.in.IssueLeaf(opts)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

// legacy signs the env's manifest for signedRef the way cosign does.
func (env *testEnv) legacy(t testing.TB, signer fixture.Signer, signedRef string, opts fixture.LegacyOptions) protocol.Signature {
	t.Helper()
	sig, err := env.in.SignLegacy(signer, fixture.CosignPayload(signedRef, env.digest), opts)
	if err != nil {
		t.Fatal(err)
	}
	return protocol.Signature{Format: protocol.FormatSigstoreJSON, MIMEType: sig.MIMEType, Payload: sig.Payload, Annotations: sig.Annotations}
}

func (env *testEnv) request(t testing.TB, cfg map[string]any, sigs ...protocol.Signature) *protocol.VerifyRequest {
	t.Helper()
	ref := env.ref
	return &protocol.VerifyRequest{
		APIVersion: protocol.APIVersion,
		Kind:       protocol.KindVerifyRequest,
		Config:     configJSON(t, cfg),
		Image:      protocol.Image{Transport: "docker", DockerReference: &ref, Manifest: env.manifest},
		Signatures: sigs,
	}
}

// trustedRoot returns a config with the env's trusted root and these identities.
func (env *testEnv) trustedRoot(identities ...map[string]any) map[string]any {
	list := make([]any, len(identities))
	for i, id := range identities {
		list[i] = id
	}
	return map[string]any{"trustedRootPath": env.trustedRootPath, "identities": list}
}

func evaluate(t testing.TB, req *protocol.VerifyRequest) *protocol.VerifyResponse {
	t.Helper()
	resp, err := Evaluate(req)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return resp
}

var (
	fixtureLegacyDefault = fixture.LegacyOptions{}
	fixtureLegacyNoSET   = fixture.LegacyOptions{NoSET: true}
)

type keyFile struct {
	pair *fixture.KeyPair
	path string
}

func newKeyFile(t testing.TB) (*keyFile, error) {
	pair, err := fixture.NewKeyPair()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(t.TempDir(), "cosign.pub")
	return &keyFile{pair: pair, path: path}, os.WriteFile(path, pair.PublicKeyPEM, 0o644)
}
