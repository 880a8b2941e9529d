package plugin

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/directory"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

// The differential suite: every image is a containers/image dir: image on disk
// (manifest.json and signature-N files in containers/image's own signature
// format), and every requirement is one sigstoreSigned block, used verbatim as
// the plugin's config. containers/image decides with its own PolicyContext
// (IsRunningImageAllowed on the dir: image), the plugin with Evaluate on the
// manifest and signatures read back from the same files; the verdicts must agree.
//
// The image reference. The dir: transport has no Docker reference, so on its own
// only the exactReference and exactRepository rules could ever accept. Where a
// case names an image reference, containers/image evaluates the dir: image through
// image.UnparsedInstanceWithReference with a docker:// reference: containers/image's
// own API for checking a locally stored image against the policy of the registry
// it came from. Manifest and signatures still come from the dir: transport, byte
// for byte; DockerReference() is what the docker transport itself reports for that
// reference, and the plugin gets exactly that string as image.dockerReference.
// Cases without a reference use the dir: image as it is, and the plugin gets null.

// Identities and references of the suite.
const (
	diffIssuer     = "https://accounts.google.com" // fixture.EmailIdentity's issuer
	diffEmail      = "alice@example.com"           // and its email SAN
	diffRepo       = "registry.example.com/team/app"
	diffOtherRepo  = "registry.example.com/team/other"
	diffMirrorRepo = "mirror.example.com/team/app"
)

// diffTrust is one sigstoreSigned requirement without its signedIdentity.
type diffTrust struct {
	name    string
	fields  map[string]any
	keyMode bool
}

// diffCase is one image and one requirement.
type diffCase struct {
	name     string
	trust    *diffTrust
	si       map[string]any // nil: the default (matchRepoDigestOrExact)
	imageRef string         // "": the dir: image's own (no) reference
	manifest []byte
	sigs     []*fixture.LegacySignature
}

// differential runs cases through both implementations.
type differential struct {
	dir      string // the dir: image, rewritten for every case
	compared int
	accepted int
}

func newDifferential(t *testing.T) *differential {
	return &differential{dir: filepath.Join(t.TempDir(), "image")}
}

// writeImage lays the case out as a dir: image, as skopeo copy dir: would.
func (d *differential) writeImage(t testing.TB, manifest []byte, sigs []*fixture.LegacySignature) {
	t.Helper()
	if err := os.RemoveAll(d.dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"version":       []byte("Directory Transport Version: 1.1\n"),
		"manifest.json": manifest,
	}
	for i, s := range sigs {
		blob, err := s.DirSignatureBlob()
		if err != nil {
			t.Fatal(err)
		}
		files[fmt.Sprintf("signature-%d", i+1)] = blob
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(d.dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// containersImage evaluates the dir: image with containers/image's PolicyContext.
func (d *differential) containersImage(t testing.TB, requirement map[string]any, imageRef string) (bool, error) {
	t.Helper()
	policy, err := json.Marshal(map[string]any{"default": []any{requirement}})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := signature.NewPolicyFromBytes(policy)
	if err != nil {
		t.Fatalf("containers/image refuses the policy %s: %v", policy, err)
	}
	pc, err := signature.NewPolicyContext(pol)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pc.Destroy() }()
	ref, err := directory.NewReference(d.dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src, err := ref.NewImageSource(ctx, &types.SystemContext{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var img types.UnparsedImage = image.UnparsedInstance(src, nil)
	if imageRef != "" {
		dockerRef, err := docker.ParseReference("//" + imageRef)
		if err != nil {
			t.Fatalf("docker reference %q: %v", imageRef, err)
		}
		img = image.UnparsedInstanceWithReference(img, dockerRef)
	}
	return pc.IsRunningImageAllowed(ctx, img)
}

// plugin evaluates the same files with the plugin: the manifest and the
// signatures as containers/image stores them, the requirement as the config.
func (d *differential) plugin(t testing.TB, config map[string]any, imageRef string, sigCount int) *protocol.VerifyResponse {
	t.Helper()
	img := protocol.Image{Transport: "dir", Manifest: readFile(t, filepath.Join(d.dir, "manifest.json"))}
	if imageRef != "" {
		dockerRef, err := docker.ParseReference("//" + imageRef)
		if err != nil {
			t.Fatal(err)
		}
		reported := dockerRef.DockerReference().String()
		img.Transport, img.DockerReference = "docker", &reported
	}
	sigs := make([]protocol.Signature, sigCount)
	for i := range sigs {
		sigs[i] = readDirSignature(t, filepath.Join(d.dir, fmt.Sprintf("signature-%d", i+1)))
	}
	resp, err := Evaluate(&protocol.VerifyRequest{
		APIVersion: protocol.APIVersion, Kind: protocol.KindVerifyRequest,
		Config: configJSON(t, config), Image: img, Signatures: sigs,
	})
	if err != nil {
		t.Fatalf("the plugin refuses the config %s: %v", configJSON(t, config), err)
	}
	return resp
}

// compare runs one case through both and reports a disagreement.
func (d *differential) compare(t testing.TB, c diffCase) {
	t.Helper()
	d.writeImage(t, c.manifest, c.sigs)
	requirement := map[string]any{"type": "sigstoreSigned"}
	maps.Copy(requirement, c.trust.fields)
	config := maps.Clone(c.trust.fields)
	if c.si != nil {
		requirement["signedIdentity"] = c.si
		config["signedIdentity"] = c.si
	}
	ciAccepts, ciErr := d.containersImage(t, requirement, c.imageRef)
	resp := d.plugin(t, config, c.imageRef, len(c.sigs))
	pluginAccepts := resp.Verdict == protocol.VerdictAccept
	d.compared++
	if ciAccepts {
		d.accepted++
	}
	if ciAccepts != pluginAccepts {
		t.Errorf("%s [%s, signedIdentity %v, image %q]: containers/image accepts=%v (%v), plugin accepts=%v (%s)",
			c.name, c.trust.name, c.si, c.imageRef, ciAccepts, ciErr, pluginAccepts, resp.Reason)
	}
}

// diffMaterial is the signing side of the suite: a trusted instance, an
// untrusted one, keys, and the trust configurations to evaluate under.
type diffMaterial struct {
	env        *testEnv
	other      *fixture.Instance // an untrusted Sigstore deployment
	key        *fixture.KeyPair  // the trusted cosign key
	otherKey   *fixture.KeyPair  // a key nobody trusts
	email      *fixture.Leaf     // alice@example.com from the trusted Fulcio
	byRoot     *fixture.Leaf     // the same identity, issued by the root itself
	manifest   []byte
	digest     string
	certTrusts []*diffTrust
	keyTrusts  []*diffTrust
}

func newDiffMaterial(t *testing.T) *diffMaterial {
	env := newTestEnv(t)
	m := &diffMaterial{env: env, manifest: env.manifest, digest: env.digest}
	var err error
	if m.other, err = fixture.NewInstance(); err != nil {
		t.Fatal(err)
	}
	if m.key, err = fixture.NewKeyPair(); err != nil {
		t.Fatal(err)
	}
	if m.otherKey, err = fixture.NewKeyPair(); err != nil {
		t.Fatal(err)
	}
	m.email = env.leaf(t, fixture.EmailIdentity())
	byRoot := fixture.EmailIdentity()
	byRoot.SignedByRoot = true
	m.byRoot = env.leaf(t, byRoot)

	// A second trusted Rekor key and a second trusted cosign key that sign
	// nothing: lists of keys must try each.
	extraLog, err := fixture.NewRekorLog("rekor.extra.example")
	if err != nil {
		t.Fatal(err)
	}
	extraKey, err := fixture.NewKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	keyPath := write("cosign.pub", m.key.PublicKeyPEM)
	extraKeyPath := write("extra-cosign.pub", extraKey.PublicKeyPEM)
	extraRekorPath := write("extra-rekor.pub", extraLog.PublicKeyPEM())
	b64 := base64.StdEncoding.EncodeToString
	emailShorthand := func(ca map[string]any) map[string]any {
		out := map[string]any{"oidcIssuer": diffIssuer, "subjectEmail": diffEmail}
		maps.Copy(out, ca)
		return out
	}
	m.certTrusts = []*diffTrust{
		{name: "fulcio.caPath with rekorPublicKeyPath", fields: map[string]any{
			"fulcio": emailShorthand(map[string]any{"caPath": env.fulcioRootPath}), "rekorPublicKeyPath": env.rekorKeyPath,
		}},
		{name: "fulcio.caData with rekorPublicKeyData", fields: map[string]any{
			"fulcio": emailShorthand(map[string]any{"caData": b64(env.in.FulcioRootPEM())}), "rekorPublicKeyData": b64(env.in.RekorPublicKeyPEM()),
		}},
		{name: "fulcio.caPath with rekorPublicKeyPaths (another log first)", fields: map[string]any{
			"fulcio": emailShorthand(map[string]any{"caPath": env.fulcioRootPath}), "rekorPublicKeyPaths": []string{extraRekorPath, env.rekorKeyPath},
		}},
	}
	m.keyTrusts = []*diffTrust{
		{name: "keyPath", keyMode: true, fields: map[string]any{"keyPath": keyPath}},
		{name: "keyDatas (another key first)", keyMode: true, fields: map[string]any{"keyDatas": []string{b64(extraKey.PublicKeyPEM), b64(m.key.PublicKeyPEM)}}},
		{name: "keyPath with rekorPublicKeyPath", keyMode: true, fields: map[string]any{"keyPath": keyPath, "rekorPublicKeyPath": env.rekorKeyPath}},
		{name: "keyPaths with rekorPublicKeyDatas (another key and log first)", keyMode: true, fields: map[string]any{
			"keyPaths": []string{extraKeyPath, keyPath}, "rekorPublicKeyDatas": []string{b64(extraLog.PublicKeyPEM()), b64(env.in.RekorPublicKeyPEM())},
		}},
	}
	return m
}

func (m *diffMaterial) trusts() []*diffTrust {
	return append(append([]*diffTrust{}, m.certTrusts...), m.keyTrusts...)
}

// sign makes a legacy signature of a cosign payload for ref and digest.
func (m *diffMaterial) sign(t testing.TB, in *fixture.Instance, signer fixture.Signer, ref, dgst string, opts fixture.LegacyOptions) *fixture.LegacySignature {
	t.Helper()
	return m.signPayload(t, in, signer, fixture.CosignPayload(ref, dgst), opts)
}

func (m *diffMaterial) signPayload(t testing.TB, in *fixture.Instance, signer fixture.Signer, payload []byte, opts fixture.LegacyOptions) *fixture.LegacySignature {
	t.Helper()
	sig, err := in.SignLegacy(signer, payload, opts)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// valid is the signature each trust accepts, for ref.
func (m *diffMaterial) valid(t testing.TB, trust *diffTrust, ref string) *fixture.LegacySignature {
	if trust.keyMode {
		return m.sign(t, m.env.in, m.key, ref, m.digest, fixture.LegacyOptions{})
	}
	return m.sign(t, m.env.in, m.email, ref, m.digest, fixture.LegacyOptions{})
}

func TestDifferentialWithContainersImage(t *testing.T) {
	m := newDiffMaterial(t)
	total := 0
	defer func() { t.Logf("compared %d cases with containers/image: identical verdicts", total) }()
	for _, section := range []struct {
		name  string
		cases func(t *testing.T, m *diffMaterial) []diffCase
	}{
		{"every signedIdentity rule agrees for every image and signed reference", signedIdentityCases},
		{"every kind of signature and trust agrees", signatureKindCases},
		{"every alteration of the manifest, MIME type and annotations agrees", alterationCases},
		{"every order of good and bad signatures agrees", severalSignatureCases},
	} {
		t.Run(section.name, func(t *testing.T) {
			d := newDifferential(t)
			cases := section.cases(t, m)
			for i, c := range cases {
				if testing.Short() && i%7 != 0 {
					continue
				}
				d.compare(t, c)
			}
			t.Logf("%d cases compared, %d accepted by both", d.compared, d.accepted)
			// A suite in which nothing (or everything) is accepted compares nothing.
			if d.accepted == 0 || d.accepted == d.compared {
				t.Fatalf("%d of %d cases accepted: the section does not tell accepting from rejecting", d.accepted, d.compared)
			}
			total += d.compared
		})
	}
}

// signedIdentityCases: the valid signature of each trust, signed for each
// reference, evaluated for each image reference under each signedIdentity rule.
func signedIdentityCases(t *testing.T, m *diffMaterial) []diffCase {
	byDigest := diffRepo + "@" + m.digest
	signedRefs := []string{
		diffRepo, // what cosign writes
		diffRepo + ":1.4",
		diffRepo + ":2.0",
		byDigest,
		diffOtherRepo + ":1.4",
		"busybox:latest", // normalized to docker.io/library/busybox:latest
		"Not A Reference",
	}
	imageRefs := []string{
		"", // the dir: image's own: none
		diffRepo + ":1.4",
		diffRepo + ":2.0",
		byDigest,
		diffOtherRepo + ":1.4",
		diffMirrorRepo + ":1.4",
		diffMirrorRepo + "@" + m.digest,
		"docker.io/library/busybox:latest",
	}
	rules := []map[string]any{
		nil,
		{"type": "matchExact"},
		{"type": "matchRepoDigestOrExact"},
		{"type": "matchRepository"},
		{"type": "exactReference", "dockerReference": diffRepo + ":1.4"},
		{"type": "exactReference", "dockerReference": byDigest},
		{"type": "exactReference", "dockerReference": "busybox:latest"},
		{"type": "exactRepository", "dockerRepository": diffRepo},
		{"type": "exactRepository", "dockerRepository": diffOtherRepo},
		{"type": "remapIdentity", "prefix": "mirror.example.com/team", "signedPrefix": "registry.example.com/team"},
		{"type": "remapIdentity", "prefix": "mirror.example.com", "signedPrefix": "registry.example.com"},
		{"type": "remapIdentity", "prefix": diffMirrorRepo, "signedPrefix": diffOtherRepo},
		{"type": "remapIdentity", "prefix": "unrelated.example.com", "signedPrefix": "registry.example.com"},
		{"type": "remapIdentity", "prefix": "docker.io/library", "signedPrefix": "registry.example.com/team"},
	}
	// One certificate trust and two key trusts (with and without Rekor): the
	// reference rules do not depend on how the signature was verified, and each
	// case costs two verifications.
	trusts := []*diffTrust{m.certTrusts[0], m.keyTrusts[0], m.keyTrusts[2]}
	var cases []diffCase
	for _, trust := range trusts {
		for _, signed := range signedRefs {
			sig := m.valid(t, trust, signed)
			for _, img := range imageRefs {
				for _, si := range rules {
					cases = append(cases, diffCase{
						name:  fmt.Sprintf("signed for %q", signed),
						trust: trust, si: si, imageRef: img, manifest: m.manifest,
						sigs: []*fixture.LegacySignature{sig},
					})
				}
			}
		}
	}
	return cases
}

// signatureKinds are the signatures the suite evaluates under every trust, all
// signed for the repository as cosign does, evaluated for the tag with
// matchRepository.
func signatureKinds(t *testing.T, m *diffMaterial) []struct {
	name string
	sig  *fixture.LegacySignature
} {
	env := m.env
	leaf := func(in *fixture.Instance, change func(*fixture.LeafOptions)) *fixture.Leaf {
		opts := fixture.EmailIdentity()
		change(&opts)
		l, err := in.IssueLeaf(opts)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	other, untrustedLog := m.other, m.other.Rekor
	sign := func(in *fixture.Instance, signer fixture.Signer, opts fixture.LegacyOptions) *fixture.LegacySignature {
		return m.sign(t, in, signer, diffRepo, m.digest, opts)
	}
	hour := time.Hour
	withChain := func(sig *fixture.LegacySignature, chain []*x509.Certificate) *fixture.LegacySignature {
		var pemChain []byte
		for _, c := range chain {
			pemChain = append(pemChain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		sig.Annotations[fixture.AnnotationChain] = string(pemChain)
		return sig
	}
	otherChain := leaf(other, func(*fixture.LeafOptions) {}).Chain
	return []struct {
		name string
		sig  *fixture.LegacySignature
	}{
		{"the email certificate", sign(env.in, m.email, fixture.LegacyOptions{})},
		{"the email certificate with an RFC 3161 timestamp", sign(env.in, m.email, fixture.LegacyOptions{RFC3161: true})},
		{"the email certificate, issued by the root, without a chain", sign(env.in, m.byRoot, fixture.LegacyOptions{NoChain: true})},
		{"the email certificate, issued by the root, with the root as chain", sign(env.in, m.byRoot, fixture.LegacyOptions{})},
		{"the email certificate without its chain", sign(env.in, m.email, fixture.LegacyOptions{NoChain: true})},
		{"the email certificate with only the intermediate as chain", withChain(sign(env.in, m.email, fixture.LegacyOptions{}), m.email.Chain[:1])},
		{"the email certificate with the chain reversed", withChain(sign(env.in, m.email, fixture.LegacyOptions{}), []*x509.Certificate{m.email.Chain[1], m.email.Chain[0]})},
		{"the email certificate with an untrusted chain", withChain(sign(env.in, m.email, fixture.LegacyOptions{}), otherChain)},
		{"another email", sign(env.in, leaf(env.in, func(o *fixture.LeafOptions) { o.Email = "mallory@example.com" }), fixture.LegacyOptions{})},
		{"the email in another case", sign(env.in, leaf(env.in, func(o *fixture.LeafOptions) { o.Email = "Alice@example.com" }), fixture.LegacyOptions{})},
		{"another issuer", sign(env.in, leaf(env.in, func(o *fixture.LeafOptions) {
			o.Issuer, o.IssuerV1 = "https://accounts.example.org", "https://accounts.example.org"
		}), fixture.LegacyOptions{})},
		{"the issuer in the v1 extension only", sign(env.in, leaf(env.in, func(o *fixture.LeafOptions) { o.OmitIssuerV2 = true }), fixture.LegacyOptions{})},
		{"disagreeing issuer extensions", sign(env.in, leaf(env.in, func(o *fixture.LeafOptions) { o.IssuerV1 = "https://evil.example" }), fixture.LegacyOptions{})},
		{"a URI identity with no email", sign(env.in, env.leaf(t, fixture.GitLabCI()), fixture.LegacyOptions{})},
		{"a certificate without the code-signing usage", sign(env.in, leaf(env.in, func(o *fixture.LeafOptions) { o.NoCodeSigningEKU = true }), fixture.LegacyOptions{})},
		{"a certificate without any extended key usage", sign(env.in, leaf(env.in, func(o *fixture.LeafOptions) { o.OmitExtKeyUsage = true }), fixture.LegacyOptions{})},
		{"a certificate without an SCT", sign(env.in, leaf(env.in, func(o *fixture.LeafOptions) { o.EmbedSCT = false }), fixture.LegacyOptions{})},
		{"a certificate from an untrusted CA", sign(env.in, leaf(other, func(*fixture.LeafOptions) {}), fixture.LegacyOptions{})},
		{"a SET from an untrusted log", sign(env.in, m.email, fixture.LegacyOptions{Rekor: untrustedLog})},
		{"a SET after the certificate expired", sign(env.in, m.email, fixture.LegacyOptions{IntegratedTime: fixture.DefaultSigningTime.Add(hour)})},
		{"a SET before the certificate was issued", sign(env.in, m.email, fixture.LegacyOptions{IntegratedTime: fixture.DefaultSigningTime.Add(-hour)})},
		{"a SET at the last second of the certificate", sign(env.in, m.email, fixture.LegacyOptions{IntegratedTime: m.email.Cert.NotAfter})},
		{"a SET at the first second of the certificate", sign(env.in, m.email, fixture.LegacyOptions{IntegratedTime: m.email.Cert.NotBefore})},
		{"a certificate without a SET", sign(env.in, m.email, fixture.LegacyOptions{NoSET: true})},
		{"a SET with a large log index", sign(env.in, m.email, fixture.LegacyOptions{LogIndex: 1 << 40})},
		{"the trusted key", sign(env.in, m.key, fixture.LegacyOptions{})},
		{"the trusted key without a SET", sign(env.in, m.key, fixture.LegacyOptions{NoSET: true})},
		{"the trusted key with a SET from an untrusted log", sign(env.in, m.key, fixture.LegacyOptions{Rekor: untrustedLog})},
		{"the trusted key with a SET from years ago", sign(env.in, m.key, fixture.LegacyOptions{IntegratedTime: fixture.InfrastructureStart.Add(24 * hour)})},
		{"an untrusted key", sign(env.in, m.otherKey, fixture.LegacyOptions{})},
		{"an untrusted key without a SET", sign(env.in, m.otherKey, fixture.LegacyOptions{NoSET: true})},
	}
}

func signatureKindCases(t *testing.T, m *diffMaterial) []diffCase {
	var cases []diffCase
	for _, kind := range signatureKinds(t, m) {
		for _, trust := range m.trusts() {
			cases = append(cases, diffCase{
				name: kind.name, trust: trust, si: map[string]any{"type": "matchRepository"},
				imageRef: diffRepo + ":1.4", manifest: m.manifest, sigs: []*fixture.LegacySignature{kind.sig},
			})
		}
	}
	return cases
}

// alterationCases change one thing about an otherwise valid signature or image.
func alterationCases(t *testing.T, m *diffMaterial) []diffCase {
	otherManifest := fixture.OCIManifest("other")
	reformatted := []byte(strings.Replace(string(m.manifest), "\n", "\n ", 1)) // same JSON, other bytes
	sha512 := digest.SHA512.FromBytes(m.manifest).String()
	alterations := []struct {
		name     string
		manifest []byte
		payload  func(*diffMaterial) []byte
		change   func(*fixture.LegacySignature)
	}{
		{name: "nothing altered"},
		{name: "another manifest", manifest: otherManifest},
		{name: "the manifest reformatted", manifest: reformatted},
		{name: "a payload naming another manifest's digest", payload: func(m *diffMaterial) []byte {
			d, _ := fixture.ManifestDigest(otherManifest)
			return fixture.CosignPayload(diffRepo, d)
		}},
		{name: "a payload naming the manifest's sha512 digest", payload: func(m *diffMaterial) []byte { return fixture.CosignPayload(diffRepo, sha512) }},
		{name: "a payload naming a malformed digest", payload: func(m *diffMaterial) []byte {
			return fixture.CosignPayload(diffRepo, "sha256:"+strings.Repeat("z", 64))
		}},
		{name: "a payload with another type", payload: func(m *diffMaterial) []byte {
			return []byte(strings.Replace(string(fixture.CosignPayload(diffRepo, m.digest)), "cosign container image signature", "atomic container signature", 1))
		}},
		{name: "a payload with an extra critical field", payload: func(m *diffMaterial) []byte {
			return []byte(strings.Replace(string(fixture.CosignPayload(diffRepo, m.digest)), `"critical":{`, `"critical":{"extra":1,`, 1))
		}},
		{name: "a payload with a duplicate optional annotation", payload: func(m *diffMaterial) []byte {
			return []byte(strings.Replace(string(fixture.CosignPayload(diffRepo, m.digest)), `"optional":null`, `"optional":{"a":"1","a":"2"}`, 1))
		}},
		{name: "a payload with a duplicate critical key", payload: func(m *diffMaterial) []byte {
			return []byte(strings.Replace(string(fixture.CosignPayload(diffRepo, m.digest)), `"critical":{`, `"critical":{"type":"cosign container image signature",`, 1))
		}},
		{name: "a payload with optional annotations", payload: func(m *diffMaterial) []byte {
			return []byte(strings.Replace(string(fixture.CosignPayload(diffRepo, m.digest)), `"optional":null`, `"optional":{"creator":"cosign","timestamp":1700000000,"team":"a"}`, 1))
		}},
		{name: "a payload whose timestamp is not an integer", payload: func(m *diffMaterial) []byte {
			return []byte(strings.Replace(string(fixture.CosignPayload(diffRepo, m.digest)), `"optional":null`, `"optional":{"timestamp":1.5}`, 1))
		}},
		{name: "a payload that is not JSON", payload: func(*diffMaterial) []byte { return []byte("not json") }},
		{name: "the image-config MIME type", change: func(s *fixture.LegacySignature) { s.MIMEType = "application/vnd.oci.image.config.v1+json" }},
		{name: "an empty MIME type", change: func(s *fixture.LegacySignature) { s.MIMEType = "" }},
		{name: "the MIME type with a parameter", change: func(s *fixture.LegacySignature) { s.MIMEType += "; charset=utf-8" }},
	}
	for _, a := range []string{fixture.AnnotationSignature, fixture.AnnotationCertificate, fixture.AnnotationChain, fixture.AnnotationBundle} {
		alterations = append(alterations, struct {
			name     string
			manifest []byte
			payload  func(*diffMaterial) []byte
			change   func(*fixture.LegacySignature)
		}{name: "no " + a + " annotation", change: func(s *fixture.LegacySignature) { delete(s.Annotations, a) }})
	}
	var cases []diffCase
	for _, trust := range m.trusts() {
		for _, a := range alterations {
			var signer fixture.Signer = m.email
			if trust.keyMode {
				signer = m.key
			}
			payload := fixture.CosignPayload(diffRepo, m.digest)
			if a.payload != nil {
				payload = a.payload(m)
			}
			sig := m.signPayload(t, m.env.in, signer, payload, fixture.LegacyOptions{})
			sig.Annotations = maps.Clone(sig.Annotations)
			if a.change != nil {
				a.change(sig)
			}
			manifest := m.manifest
			if a.manifest != nil {
				manifest = a.manifest
			}
			cases = append(cases, diffCase{
				name: a.name, trust: trust, si: map[string]any{"type": "matchRepository"},
				imageRef: diffRepo + ":1.4", manifest: manifest, sigs: []*fixture.LegacySignature{sig},
			})
		}
	}
	return cases
}

// severalSignatureCases: every sequence of one to three signatures from a pool of
// one valid and several invalid ones.
func severalSignatureCases(t *testing.T, m *diffMaterial) []diffCase {
	var cases []diffCase
	for _, trust := range []*diffTrust{m.certTrusts[0], m.keyTrusts[0], m.keyTrusts[2]} {
		good := m.valid(t, trust, diffRepo)
		wrongMIME := m.valid(t, trust, diffRepo)
		wrongMIME.MIMEType = "text/plain"
		pool := []struct {
			name string
			sig  *fixture.LegacySignature
		}{
			{"valid", good},
			{"for another repository", m.valid(t, trust, diffOtherRepo)},
			{"for another manifest", func() *fixture.LegacySignature {
				d, _ := fixture.ManifestDigest(fixture.OCIManifest("other"))
				if trust.keyMode {
					return m.sign(t, m.env.in, m.key, diffRepo, d, fixture.LegacyOptions{})
				}
				return m.sign(t, m.env.in, m.email, diffRepo, d, fixture.LegacyOptions{})
			}()},
			{"by an untrusted signer", func() *fixture.LegacySignature {
				if trust.keyMode {
					return m.sign(t, m.env.in, m.otherKey, diffRepo, m.digest, fixture.LegacyOptions{})
				}
				l, err := m.other.IssueLeaf(fixture.EmailIdentity())
				if err != nil {
					t.Fatal(err)
				}
				return m.sign(t, m.env.in, l, diffRepo, m.digest, fixture.LegacyOptions{})
			}()},
			{"not a signature (MIME type)", wrongMIME},
		}
		var seqs [][]int
		for i := range pool {
			seqs = append(seqs, []int{i})
			for j := range pool {
				seqs = append(seqs, []int{i, j})
				for k := range pool {
					seqs = append(seqs, []int{i, j, k})
				}
			}
		}
		for _, seq := range seqs {
			var names []string
			var sigs []*fixture.LegacySignature
			for _, i := range seq {
				names = append(names, pool[i].name)
				sigs = append(sigs, pool[i].sig)
			}
			cases = append(cases, diffCase{
				name: "signatures " + strings.Join(names, ", "), trust: trust, si: map[string]any{"type": "matchRepository"},
				imageRef: diffRepo + ":1.4", manifest: m.manifest, sigs: sigs,
			})
		}
	}
	return cases
}

// TestDifferentialStricterThanContainersImage holds the cases excluded from the
// comparison on purpose: README's "Design decisions" list where the plugin is
// stricter than containers/image. Each is checked in its direction, so an
// exclusion cannot hide a case where the plugin accepts what containers/image
// rejects.
func TestDifferentialStricterThanContainersImage(t *testing.T) {
	m := newDiffMaterial(t)
	keyWithRekor := m.keyTrusts[2]
	keyOnly := m.keyTrusts[0]
	// resignSET rewrites the SET's payload with change and signs it again with the
	// trusted Rekor key: what a log that writes odd SETs would produce.
	resignSET := func(sig *fixture.LegacySignature, change func(payload map[string]any)) *fixture.LegacySignature {
		var set struct {
			SignedEntryTimestamp []byte
			Payload              map[string]any
		}
		if err := json.Unmarshal([]byte(sig.Annotations[fixture.AnnotationBundle]), &set); err != nil {
			t.Fatal(err)
		}
		change(set.Payload)
		canonical, err := json.Marshal(set.Payload) // sorted keys, integers, no HTML-sensitive characters
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(canonical)
		if set.SignedEntryTimestamp, err = ecdsa.SignASN1(rand.Reader, m.env.in.Rekor.Key, h[:]); err != nil {
			t.Fatal(err)
		}
		annotation, err := json.Marshal(set)
		if err != nil {
			t.Fatal(err)
		}
		out := *sig
		out.Annotations = maps.Clone(sig.Annotations)
		out.Annotations[fixture.AnnotationBundle] = string(annotation)
		return &out
	}
	payloadWith := func(old, replacement string) []byte {
		p := string(fixture.CosignPayload(diffRepo, m.digest))
		if !strings.Contains(p, old) {
			t.Fatalf("payload %s has no %s", p, old)
		}
		return []byte(strings.Replace(p, old, replacement, 1))
	}
	otherLogID := sha256.Sum256([]byte("another log"))
	for _, tc := range []struct {
		name  string
		trust *diffTrust
		sig   *fixture.LegacySignature
	}{
		{
			name:  "a SET whose logID is not the signing log's ID",
			trust: keyWithRekor,
			sig: resignSET(m.valid(t, keyWithRekor, diffRepo), func(p map[string]any) {
				p["logID"] = hex.EncodeToString(otherLogID[:])
			}),
		},
		{
			name:  "a SET whose logID is null",
			trust: keyWithRekor,
			sig:   resignSET(m.valid(t, keyWithRekor, diffRepo), func(p map[string]any) { p["logID"] = nil }),
		},
		{
			name:  "a payload with a duplicate key inside an optional annotation",
			trust: keyOnly,
			sig:   m.signPayload(t, m.env.in, m.key, payloadWith(`"optional":null`, `"optional":{"a":{"b":"1","b":"2"}}`), fixture.LegacyOptions{}),
		},
		{
			name:  "a payload whose optional creator is null",
			trust: keyOnly,
			sig:   m.signPayload(t, m.env.in, m.key, payloadWith(`"optional":null`, `"optional":{"creator":null}`), fixture.LegacyOptions{}),
		},
	} {
		t.Run(tc.name+" is rejected by the plugin and accepted by containers/image", func(t *testing.T) {
			d := newDifferential(t)
			d.writeImage(t, m.manifest, []*fixture.LegacySignature{tc.sig})
			requirement := map[string]any{"type": "sigstoreSigned", "signedIdentity": map[string]any{"type": "matchRepository"}}
			maps.Copy(requirement, tc.trust.fields)
			config := maps.Clone(requirement)
			delete(config, "type")
			ciAccepts, ciErr := d.containersImage(t, requirement, diffRepo+":1.4")
			resp := d.plugin(t, config, diffRepo+":1.4", 1)
			if !ciAccepts {
				t.Errorf("containers/image rejects it (%v): no longer a difference, move it to the compared cases", ciErr)
			}
			if resp.Verdict != protocol.VerdictReject {
				t.Errorf("the plugin accepts it: %s", resp.Reason)
			}
		})
	}
}
