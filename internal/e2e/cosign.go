package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// KeyPassword is the password of the keys GenerateKeyPair makes; Cosign sets
// COSIGN_PASSWORD to it.
const KeyPassword = "e2e-test-password"

// KeyPair is a cosign key pair on disk.
type KeyPair struct {
	PrivateKey string // path of cosign.key (encrypted with KeyPassword)
	PublicKey  string // path of cosign.pub (PEM, PKIX)
}

// GenerateKeyPair makes a key pair with `cosign generate-key-pair`.
func GenerateKeyPair(t testing.TB) KeyPair {
	t.Helper()
	dir := t.TempDir()
	prefix := filepath.Join(dir, "cosign")
	Cosign(t, "generate-key-pair", "--output-key-prefix", prefix)
	return KeyPair{PrivateKey: prefix + ".key", PublicKey: prefix + ".pub"}
}

// offlineSignFlags make cosign sign with a key and touch nothing but the
// registry: no transparency log, no TUF signing config, plain HTTP.
var offlineSignFlags = []string{
	"--tlog-upload=false", "--use-signing-config=false", "--allow-http-registry", "--yes",
}

// SignLegacy signs ref (by digest: "repo@sha256:...") with key in cosign's
// legacy layout: a simple-signing payload layer in the manifest tagged
// sha256-<hex>.sig (--new-bundle-format=false).
func SignLegacy(t testing.TB, key KeyPair, ref string) {
	t.Helper()
	args := append([]string{"sign", "--key", key.PrivateKey, "--new-bundle-format=false"}, offlineSignFlags...)
	Cosign(t, append(args, ref)...)
}

// SignBundle signs ref with key in cosign v3's default layout: a Sigstore
// bundle (v0.3, DSSE in-toto statement) stored as an OCI referrer of ref;
// on a registry without the referrers API, listed in the sha256-<hex> tag.
func SignBundle(t testing.TB, key KeyPair, ref string) {
	t.Helper()
	args := append([]string{"sign", "--key", key.PrivateKey}, offlineSignFlags...)
	Cosign(t, append(args, ref)...)
}

// Attachment is a signature made elsewhere, for AttachSignature.
type Attachment struct {
	Payload          []byte // the signed payload (simple signing JSON)
	Signature        string // base64 of the signature over Payload
	Certificate      []byte // PEM leaf certificate, optional
	CertificateChain []byte // PEM intermediates then root, optional
	// RekorBundle is cosign's Rekor bundle JSON ({"SignedEntryTimestamp":
	// base64, "Payload": {"body", "integratedTime", "logIndex", "logID"}}),
	// optional. It becomes the dev.sigstore.cosign/bundle annotation.
	RekorBundle []byte
}

// AttachSignature stores a in cosign's legacy layout for ref (by digest) with
// `cosign attach signature`.
func AttachSignature(t testing.TB, ref string, a Attachment) {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	args := []string{
		"attach", "signature", "--allow-http-registry",
		"--payload", write("payload.json", a.Payload),
		"--signature", write("signature.b64", []byte(a.Signature)),
	}
	if a.Certificate != nil {
		args = append(args, "--certificate", write("cert.pem", a.Certificate))
	}
	if a.CertificateChain != nil {
		args = append(args, "--certificate-chain", write("chain.pem", a.CertificateChain))
	}
	if a.RekorBundle != nil {
		// --rekor-response takes cosign's LocalSignedPayload JSON and uses
		// only its rekorBundle member.
		response, err := json.Marshal(map[string]json.RawMessage{"rekorBundle": a.RekorBundle})
		if err != nil {
			t.Fatalf("e2e: RekorBundle is not JSON: %v", err)
		}
		args = append(args, "--rekor-response", write("rekor-response.json", response))
	}
	Cosign(t, append(args, ref)...)
}

// SimpleSigningPayload is the payload cosign signs in the legacy layout,
// byte for byte as cosign v3.1.3 writes it for `cosign sign`.
func SimpleSigningPayload(dockerReference, manifestDigest string) []byte {
	return []byte(`{"critical":{"identity":{"docker-reference":"` + dockerReference +
		`"},"image":{"docker-manifest-digest":"` + manifestDigest +
		`"},"type":"cosign container image signature"},"optional":null}`)
}

// SignLegacyRecursive signs ref, an index by digest, and every manifest it
// lists with `cosign sign --recursive`, in the legacy layout: one
// sha256-<hex>.sig tag per digest.
func SignLegacyRecursive(t testing.TB, key KeyPair, ref string) {
	t.Helper()
	args := append([]string{"sign", "--key", key.PrivateKey, "--new-bundle-format=false", "--recursive"}, offlineSignFlags...)
	Cosign(t, append(args, ref)...)
}
