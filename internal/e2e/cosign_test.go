package e2e_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/e2e"
)

// The registry layouts asserted here are written down in hack/README.md;
// keep the two in step.

const (
	simpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	bundleMediaType        = "application/vnd.dev.sigstore.bundle.v0.3+json"
	emptyMediaType         = "application/vnd.oci.empty.v1+json"
	signatureAnnotation    = "dev.cosignproject.cosign/signature"
	certificateAnnotation  = "dev.sigstore.cosign/certificate"
	chainAnnotation        = "dev.sigstore.cosign/chain"
	rekorBundleAnnotation  = "dev.sigstore.cosign/bundle"
)

// legacySignature checks the manifest tagged sha256-<hex>.sig for digest and
// returns its one layer's descriptor and payload.
func legacySignature(t *testing.T, repository, digest string) (e2e.OCIDescriptor, []byte) {
	t.Helper()
	body, contentType := e2e.GetManifest(t, repository, e2e.SigTag(digest))
	if contentType != e2e.MediaTypeOCIManifest {
		t.Errorf(".sig manifest Content-Type = %q, want %q", contentType, e2e.MediaTypeOCIManifest)
	}
	m := e2e.ParseManifest(t, body)
	if m.MediaType != e2e.MediaTypeOCIManifest || m.ArtifactType != "" || m.Subject != nil || m.Annotations != nil {
		t.Errorf(".sig manifest: mediaType %q artifactType %q subject %v annotations %v; want an OCI manifest with none of them",
			m.MediaType, m.ArtifactType, m.Subject, m.Annotations)
	}
	if m.Config == nil || m.Config.MediaType != e2e.MediaTypeOCIConfig {
		t.Errorf(".sig manifest config = %+v, want an %s", m.Config, e2e.MediaTypeOCIConfig)
	}
	if len(m.Layers) != 1 {
		t.Fatalf(".sig manifest has %d layers, want 1: %s", len(m.Layers), body)
	}
	layer := m.Layers[0]
	if layer.MediaType != simpleSigningMediaType {
		t.Errorf(".sig layer mediaType = %q, want %q", layer.MediaType, simpleSigningMediaType)
	}
	payload := e2e.GetBlob(t, repository, layer.Digest)
	if e2e.Digest(payload) != layer.Digest || int64(len(payload)) != layer.Size {
		t.Errorf(".sig layer: blob does not match its descriptor %+v", layer)
	}
	return layer, payload
}

// verifyECDSA verifies a base64 ASN.1 ECDSA signature over SHA-256(data).
func verifyECDSA(t *testing.T, pubPEM []byte, data []byte, b64Sig string) {
	t.Helper()
	if !ecdsaVerifies(t, pubPEM, data, b64Sig) {
		t.Errorf("signature does not verify with the key pair's public key")
	}
}

// ecdsaVerifies says whether b64Sig, base64 ASN.1 ECDSA, signs SHA-256(data)
// with the PEM public key.
func ecdsaVerifies(t *testing.T, pubPEM []byte, data []byte, b64Sig string) bool {
	t.Helper()
	block, _ := pem.Decode(pubPEM)
	if block == nil {
		t.Fatalf("no PEM in public key %s", pubPEM)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(b64Sig)
	if err != nil {
		t.Fatalf("signature %q is not base64: %v", b64Sig, err)
	}
	sum := sha256.Sum256(data)
	return ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), sum[:], sig)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestCosignLegacyLayout(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	img := e2e.PushImage(t, addr+"/team/app:1.4")
	key := e2e.GenerateKeyPair(t)

	e2e.SignLegacy(t, key, img.DigestRef())

	if got, want := e2e.Tags(t, img.Repository), []string{"1.4", e2e.SigTag(img.Digest)}; !slices.Equal(got, want) {
		t.Errorf("tags = %q, want %q (no referrers tag in the legacy layout)", got, want)
	}
	layer, payload := legacySignature(t, img.Repository, img.Digest)
	if got := slices.Sorted(maps.Keys(layer.Annotations)); !slices.Equal(got, []string{signatureAnnotation}) {
		t.Errorf("layer annotations %q, want only %s (key signature: no certificate, no Rekor bundle)", got, signatureAnnotation)
	}
	// cosign names the repository, without tag or digest, as docker-reference.
	if want := e2e.SimpleSigningPayload(img.Repository, img.Digest); !bytes.Equal(payload, want) {
		t.Errorf("payload:\n%s\nwant:\n%s", payload, want)
	}
	verifyECDSA(t, readFile(t, key.PublicKey), payload, layer.Annotations[signatureAnnotation])

	t.Run("signing again adds a layer to the same tag", func(t *testing.T) {
		other := e2e.GenerateKeyPair(t)
		e2e.SignLegacy(t, other, img.DigestRef())
		m := e2e.ParseManifest(t, first(e2e.GetManifest(t, img.Repository, e2e.SigTag(img.Digest))))
		if len(m.Layers) != 2 {
			t.Fatalf(".sig manifest has %d layers after a second signature, want 2", len(m.Layers))
		}
		if m.Layers[0].Digest != m.Layers[1].Digest {
			t.Errorf("the two layers have different payloads %s and %s; cosign signs the same payload", m.Layers[0].Digest, m.Layers[1].Digest)
		}
		verifyECDSA(t, readFile(t, other.PublicKey), payload, m.Layers[1].Annotations[signatureAnnotation])
	})
}

func first[A, B any](a A, _ B) A { return a }

// dssePAE is DSSE's pre-authentication encoding, what a DSSE signature signs.
func dssePAE(payloadType string, payload []byte) []byte {
	return fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(payloadType), payloadType, len(payload), payload)
}

// bundleReferrer checks the referrers tag of subject lists exactly one cosign
// bundle, checks that referrer manifest, and returns the bundle's JSON.
func bundleReferrer(t *testing.T, repository string, subject e2e.OCIDescriptor) []byte {
	t.Helper()
	if status := e2e.ReferrersAPIStatus(t, repository, subject.Digest); status != http.StatusNotFound {
		t.Errorf("referrers API answered %d; distribution 2.8 has none (404)", status)
	}
	body, contentType := e2e.GetManifest(t, repository, e2e.FallbackTag(subject.Digest))
	if contentType != e2e.MediaTypeOCIIndex {
		t.Errorf("referrers tag Content-Type = %q, want %q", contentType, e2e.MediaTypeOCIIndex)
	}
	index := e2e.ParseManifest(t, body)
	if index.MediaType != e2e.MediaTypeOCIIndex || len(index.Manifests) != 1 {
		t.Fatalf("referrers tag index: want one entry in an OCI index, got %s", body)
	}
	entry := index.Manifests[0]
	if entry.MediaType != e2e.MediaTypeOCIManifest || entry.ArtifactType != bundleMediaType || entry.Annotations != nil {
		t.Errorf("referrers index entry = %+v, want an OCI manifest with artifactType %s and no annotations", entry, bundleMediaType)
	}

	body, contentType = e2e.GetManifest(t, repository, entry.Digest)
	if contentType != e2e.MediaTypeOCIManifest || e2e.Digest(body) != entry.Digest || int64(len(body)) != entry.Size {
		t.Errorf("referrer manifest (%s) does not match its index entry", contentType)
	}
	m := e2e.ParseManifest(t, body)
	if m.ArtifactType != bundleMediaType {
		t.Errorf("referrer artifactType = %q, want %q", m.ArtifactType, bundleMediaType)
	}
	// cosign (go-containerregistry) also puts artifactType on the config descriptor.
	wantConfig := e2e.OCIDescriptor{MediaType: emptyMediaType, Digest: e2e.Digest([]byte("{}")), Size: 2, ArtifactType: bundleMediaType}
	if m.Config == nil || !reflect.DeepEqual(*m.Config, wantConfig) {
		t.Errorf("referrer config = %+v, want %+v", m.Config, wantConfig)
	}
	if m.Subject == nil || !reflect.DeepEqual(*m.Subject, subject) {
		t.Errorf("referrer subject = %+v, want %+v", m.Subject, subject)
	}
	if got := slices.Sorted(maps.Keys(m.Annotations)); !slices.Equal(got, []string{
		"dev.sigstore.bundle.content", "dev.sigstore.bundle.predicateType", "org.opencontainers.image.created",
	}) {
		t.Errorf("referrer annotations = %v", m.Annotations)
	}
	if m.Annotations["dev.sigstore.bundle.content"] != "dsse-envelope" ||
		m.Annotations["dev.sigstore.bundle.predicateType"] != "https://sigstore.dev/cosign/sign/v1" {
		t.Errorf("referrer annotations = %v, want content dsse-envelope, predicateType https://sigstore.dev/cosign/sign/v1", m.Annotations)
	}
	if _, err := time.Parse(time.RFC3339, m.Annotations["org.opencontainers.image.created"]); err != nil {
		t.Errorf("org.opencontainers.image.created: %v", err)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != bundleMediaType || m.Layers[0].Annotations != nil {
		t.Fatalf("referrer layers = %+v, want one %s layer", m.Layers, bundleMediaType)
	}
	bundle := e2e.GetBlob(t, repository, m.Layers[0].Digest)
	if e2e.Digest(bundle) != m.Layers[0].Digest {
		t.Errorf("bundle blob does not match its descriptor")
	}
	return bundle
}

// checkKeyBundle checks a cosign v3 key-signed bundle signs subjectDigest.
func checkKeyBundle(t *testing.T, bundle []byte, key e2e.KeyPair, subjectDigest string) {
	t.Helper()
	var b struct {
		MediaType            string `json:"mediaType"`
		VerificationMaterial struct {
			PublicKey *struct {
				Hint string `json:"hint"`
			} `json:"publicKey"`
			TlogEntries []json.RawMessage `json:"tlogEntries"`
		} `json:"verificationMaterial"`
		DSSEEnvelope struct {
			Payload     []byte `json:"payload"`
			PayloadType string `json:"payloadType"`
			Signatures  []struct {
				Sig string `json:"sig"`
			} `json:"signatures"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatalf("bundle: %v: %s", err, bundle)
	}
	if b.MediaType != bundleMediaType || b.VerificationMaterial.PublicKey == nil || len(b.VerificationMaterial.TlogEntries) != 0 {
		t.Errorf("bundle: mediaType %q, publicKey %v, %d tlog entries; want %s, a key hint, none (--tlog-upload=false)",
			b.MediaType, b.VerificationMaterial.PublicKey, len(b.VerificationMaterial.TlogEntries), bundleMediaType)
	}
	if b.DSSEEnvelope.PayloadType != "application/vnd.in-toto+json" || len(b.DSSEEnvelope.Signatures) != 1 {
		t.Fatalf("bundle DSSE envelope: payloadType %q, %d signatures", b.DSSEEnvelope.PayloadType, len(b.DSSEEnvelope.Signatures))
	}
	verifyECDSA(t, readFile(t, key.PublicKey), dssePAE(b.DSSEEnvelope.PayloadType, b.DSSEEnvelope.Payload), b.DSSEEnvelope.Signatures[0].Sig)

	var statement struct {
		Type    string `json:"_type"`
		Subject []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		PredicateType string          `json:"predicateType"`
		Predicate     json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(b.DSSEEnvelope.Payload, &statement); err != nil {
		t.Fatalf("in-toto statement: %v", err)
	}
	if statement.Type != "https://in-toto.io/Statement/v1" || statement.PredicateType != "https://sigstore.dev/cosign/sign/v1" ||
		len(statement.Subject) != 1 || string(statement.Predicate) != "{}" {
		t.Errorf("in-toto statement = %s", b.DSSEEnvelope.Payload)
	}
	// The statement names no image: only the digest binds it.
	want := map[string]string{"sha256": strings.TrimPrefix(subjectDigest, "sha256:")}
	if len(statement.Subject) == 1 && (statement.Subject[0].Name != "" || !maps.Equal(statement.Subject[0].Digest, want)) {
		t.Errorf("statement subject = %+v, want no name and digest %v", statement.Subject[0], want)
	}
}

func TestCosignBundleLayout(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	img := e2e.PushImage(t, addr+"/team/app:1.4")
	key := e2e.GenerateKeyPair(t)

	e2e.SignBundle(t, key, img.DigestRef())

	if got, want := e2e.Tags(t, img.Repository), []string{"1.4", e2e.FallbackTag(img.Digest)}; !slices.Equal(got, want) {
		t.Errorf("tags = %q, want %q (no .sig tag in the bundle layout)", got, want)
	}
	subject := e2e.OCIDescriptor{MediaType: e2e.MediaTypeOCIManifest, Digest: img.Digest, Size: int64(len(img.Manifest))}
	bundle := bundleReferrer(t, img.Repository, subject)
	checkKeyBundle(t, bundle, key, img.Digest)

	t.Run("signing again adds a second referrer to the tag's index", func(t *testing.T) {
		e2e.SignBundle(t, key, img.DigestRef())
		index := e2e.ParseManifest(t, first(e2e.GetManifest(t, img.Repository, e2e.FallbackTag(img.Digest))))
		if len(index.Manifests) != 2 || index.Manifests[0].Digest == index.Manifests[1].Digest {
			t.Fatalf("referrers tag index after a second signature has %d distinct entries, want 2", len(index.Manifests))
		}
	})
}

func TestCosignSignsIndexAtTopLevel(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	img := e2e.PushIndex(t, addr+"/team/multi:2")
	key := e2e.GenerateKeyPair(t)

	e2e.SignLegacy(t, key, img.DigestRef())
	e2e.SignBundle(t, key, img.DigestRef())

	want := []string{"2", e2e.FallbackTag(img.Digest), e2e.SigTag(img.Digest)}
	slices.Sort(want)
	if got := e2e.Tags(t, img.Repository); !slices.Equal(got, want) {
		t.Errorf("tags = %q, want %q: the index only, not its instances (no -r)", got, want)
	}
	layer, payload := legacySignature(t, img.Repository, img.Digest)
	if want := e2e.SimpleSigningPayload(img.Repository, img.Digest); !bytes.Equal(payload, want) {
		t.Errorf("payload:\n%s\nwant:\n%s", payload, want)
	}
	verifyECDSA(t, readFile(t, key.PublicKey), payload, layer.Annotations[signatureAnnotation])

	subject := e2e.OCIDescriptor{MediaType: e2e.MediaTypeOCIIndex, Digest: img.Digest, Size: int64(len(img.Manifest))}
	checkKeyBundle(t, bundleReferrer(t, img.Repository, subject), key, img.Digest)

	for i, inst := range img.Instances {
		for _, tag := range []string{e2e.SigTag(inst.Digest), e2e.FallbackTag(inst.Digest)} {
			if status := e2e.ManifestStatus(t, img.Repository, tag); status != http.StatusNotFound {
				t.Errorf("instance %d: tag %s: status %d, want 404", i, tag, status)
			}
		}
	}
}

func TestCosignAttachSignature(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	img := e2e.PushImage(t, addr+"/team/app:1.4")

	// A keyless-style signature made elsewhere: a leaf certificate from a
	// throwaway CA, a signature over the simple-signing payload, and a Rekor
	// SET for it from a throwaway log key.
	signed := newThrowawaySignature(t, e2e.SimpleSigningPayload(img.Repository+":1.4", img.Digest))

	e2e.AttachSignature(t, img.DigestRef(), e2e.Attachment{
		Payload:          signed.payload,
		Signature:        signed.signature,
		Certificate:      signed.leafPEM,
		CertificateChain: signed.chainPEM,
		RekorBundle:      signed.rekorBundle,
	})

	if got, want := e2e.Tags(t, img.Repository), []string{"1.4", e2e.SigTag(img.Digest)}; !slices.Equal(got, want) {
		t.Errorf("tags = %q, want %q", got, want)
	}
	layer, payload := legacySignature(t, img.Repository, img.Digest)
	if !bytes.Equal(payload, signed.payload) {
		t.Errorf("payload = %s, want the attached one %s", payload, signed.payload)
	}
	want := []string{rekorBundleAnnotation, certificateAnnotation, chainAnnotation, signatureAnnotation}
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(layer.Annotations)); !slices.Equal(got, want) {
		t.Fatalf("annotations %q, want %q", got, want)
	}
	if got := layer.Annotations[signatureAnnotation]; got != signed.signature {
		t.Errorf("%s = %q, want %q", signatureAnnotation, got, signed.signature)
	}
	if got := layer.Annotations[certificateAnnotation]; got != string(signed.leafPEM) {
		t.Errorf("%s = %q, want the PEM as given", certificateAnnotation, got)
	}
	if got := layer.Annotations[chainAnnotation]; got != string(signed.chainPEM) {
		t.Errorf("%s = %q, want the PEM as given", chainAnnotation, got)
	}
	// cosign re-encodes the Rekor bundle: same JSON value, maybe other bytes.
	var gotBundle, wantBundle any
	if err := json.Unmarshal([]byte(layer.Annotations[rekorBundleAnnotation]), &gotBundle); err != nil {
		t.Fatalf("%s: %v", rekorBundleAnnotation, err)
	}
	if err := json.Unmarshal(signed.rekorBundle, &wantBundle); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotBundle, wantBundle) {
		t.Errorf("%s = %s, want %s", rekorBundleAnnotation, layer.Annotations[rekorBundleAnnotation], signed.rekorBundle)
	}
	signed.verify(t, payload, layer.Annotations)
}

func TestCosignBundleLayoutWithReferrersAPI(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{ReferrersAPI: true})
	img := e2e.PushImage(t, addr+"/team/app:1.4")
	key := e2e.GenerateKeyPair(t)

	e2e.SignBundle(t, key, img.DigestRef())

	// cosign saw the API answer and wrote no referrers tag.
	if got := e2e.Tags(t, img.Repository); !slices.Equal(got, []string{"1.4"}) {
		t.Errorf("tags = %q, want only [1.4]", got)
	}
	if status := e2e.ReferrersAPIStatus(t, img.Repository, img.Digest); status != http.StatusOK {
		t.Fatalf("referrers API status %d, want 200", status)
	}
	body, contentType := e2e.GetReferrers(t, img.Repository, img.Digest)
	index := e2e.ParseManifest(t, body)
	if contentType != e2e.MediaTypeOCIIndex || len(index.Manifests) != 1 {
		t.Fatalf("referrers API answered %s (%s), want an OCI index with one entry", body, contentType)
	}
	entry := index.Manifests[0]
	if entry.ArtifactType != bundleMediaType || entry.MediaType != e2e.MediaTypeOCIManifest ||
		entry.Annotations["dev.sigstore.bundle.content"] != "dsse-envelope" {
		t.Errorf("referrers API entry = %+v, want a %s manifest with the manifest's annotations", entry, bundleMediaType)
	}
	// The referrer manifest itself is the same as with the tag fallback.
	m := e2e.ParseManifest(t, first(e2e.GetManifest(t, img.Repository, entry.Digest)))
	if m.ArtifactType != bundleMediaType || m.Subject == nil || m.Subject.Digest != img.Digest || len(m.Layers) != 1 {
		t.Fatalf("referrer manifest = %+v", m)
	}
	checkKeyBundle(t, e2e.GetBlob(t, img.Repository, m.Layers[0].Digest), key, img.Digest)
}
