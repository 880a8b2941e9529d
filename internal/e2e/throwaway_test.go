package e2e_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/url"
	"testing"
	"time"
)

// throwawaySignature is a keyless-style cosign signature made without
// Fulcio or Rekor: a leaf certificate from a throwaway CA, a signature over a
// payload, and a Rekor SET from a throwaway log key. Only its shape is
// realistic; the real Fulcio-style fixtures live in internal/fixture.
type throwawaySignature struct {
	payload     []byte
	signature   string // base64 ECDSA over SHA-256(payload)
	leafPEM     []byte
	chainPEM    []byte // the CA certificate
	rekorBundle []byte // {"SignedEntryTimestamp", "Payload": {...}}
	ca          *x509.Certificate
	rekorKey    *ecdsa.PublicKey
}

// rekorPayload is what a Rekor SET signs, as canonical JSON (sorted keys).
type rekorPayload struct {
	Body           string `json:"body"`
	IntegratedTime int64  `json:"integratedTime"`
	LogID          string `json:"logID"`
	LogIndex       int64  `json:"logIndex"`
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sign(t *testing.T, k *ecdsa.PrivateKey, data []byte) []byte {
	t.Helper()
	sum := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, k, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func newThrowawaySignature(t *testing.T, payload []byte) throwawaySignature {
	t.Helper()
	now := time.Now().Truncate(time.Second)

	caKey := newKey(t)
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"e2e throwaway"}, CommonName: "e2e throwaway CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}

	leafKey := newKey(t)
	subject, err := url.Parse("https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.2.0")
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := asn1.Marshal("https://token.actions.githubusercontent.com")
	if err != nil {
		t.Fatal(err)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2),
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(10 * time.Minute),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		URIs:         []*url.URL{subject},
		ExtraExtensions: []pkix.Extension{
			// Fulcio's OIDC issuer (v2), 1.3.6.1.4.1.57264.1.8.
			{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}, Value: issuer},
		},
	}, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}

	sig := sign(t, leafKey, payload)
	payloadHash := sha256.Sum256(payload)
	leafPEM := pemCert(leafDER)
	body, err := json.Marshal(map[string]any{
		"apiVersion": "0.0.1",
		"kind":       "hashedrekord",
		"spec": map[string]any{
			"data":      map[string]any{"hash": map[string]string{"algorithm": "sha256", "value": hex.EncodeToString(payloadHash[:])}},
			"signature": map[string]any{"content": sig, "publicKey": map[string]any{"content": leafPEM}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}

	rekorKey := newKey(t)
	rekorDER, err := x509.MarshalPKIXPublicKey(&rekorKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	logID := sha256.Sum256(rekorDER)
	entry := rekorPayload{
		Body:           base64.StdEncoding.EncodeToString(body),
		IntegratedTime: now.Unix(),
		LogID:          hex.EncodeToString(logID[:]),
		LogIndex:       4242,
	}
	canonical, err := json.Marshal(entry)
	if err != nil {
		t.Fatal(err)
	}
	rekorBundle, err := json.Marshal(map[string]any{
		"SignedEntryTimestamp": sign(t, rekorKey, canonical),
		"Payload":              entry,
	})
	if err != nil {
		t.Fatal(err)
	}

	return throwawaySignature{
		payload:     payload,
		signature:   base64.StdEncoding.EncodeToString(sig),
		leafPEM:     leafPEM,
		chainPEM:    pemCert(caDER),
		rekorBundle: rekorBundle,
		ca:          ca,
		rekorKey:    &rekorKey.PublicKey,
	}
}

// verify checks that the annotations cosign stored still make a consistent
// signature: the certificate chains to the CA in the chain annotation, the
// signature verifies with it, and the SET verifies with the log key.
func (s throwawaySignature) verify(t *testing.T, payload []byte, annotations map[string]string) {
	t.Helper()
	block, _ := pem.Decode([]byte(annotations[certificateAnnotation]))
	if block == nil {
		t.Fatal("certificate annotation holds no PEM")
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	chainBlock, _ := pem.Decode([]byte(annotations[chainAnnotation]))
	if chainBlock == nil {
		t.Fatal("chain annotation holds no PEM")
	}
	roots := x509.NewCertPool()
	root, err := x509.ParseCertificate(chainBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots.AddCert(root)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}); err != nil {
		t.Errorf("certificate does not chain to the chain annotation's CA: %v", err)
	}
	if !root.Equal(s.ca) {
		t.Error("chain annotation is not the throwaway CA")
	}
	sig, err := base64.StdEncoding.DecodeString(annotations[signatureAnnotation])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(payload)
	if !ecdsa.VerifyASN1(leaf.PublicKey.(*ecdsa.PublicKey), sum[:], sig) {
		t.Error("signature annotation does not verify with the certificate")
	}

	var bundle struct {
		SignedEntryTimestamp []byte
		Payload              rekorPayload
	}
	if err := json.Unmarshal([]byte(annotations[rekorBundleAnnotation]), &bundle); err != nil {
		t.Fatal(err)
	}
	canonical, err := json.Marshal(bundle.Payload)
	if err != nil {
		t.Fatal(err)
	}
	setSum := sha256.Sum256(canonical)
	if !ecdsa.VerifyASN1(s.rekorKey, setSum[:], bundle.SignedEntryTimestamp) {
		t.Error("Rekor SET in the bundle annotation does not verify with the log key")
	}
}
