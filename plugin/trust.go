package plugin

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// trust is the loaded trust material of one config. Exactly one of material
// (certificate mode) and keys (key mode) is set.
type trust struct {
	// material holds Fulcio CAs, transparency logs, CT logs and timestamp
	// authorities for certificate signatures.
	material root.TrustedMaterial
	// keys are the trusted public keys, each with its own material so that a
	// signature is checked against one key at a time whatever key hint it carries.
	keys []*trustedKey
	// keysNeedLog is set when key mode also names transparency logs: then, as in
	// sigstoreSigned with rekorPublicKeyPath, a key signature needs a log entry.
	keysNeedLog bool
}

type trustedKey struct {
	// id is sha256:<hex of the DER SubjectPublicKeyInfo>, the key's name in
	// responses and its hint in the bundles built from legacy signatures.
	id       string
	material root.TrustedMaterial
}

func (t *trust) hasCTLogs() bool {
	return t.material != nil && len(t.material.CTLogs()) > 0
}

func loadPublicKeys(p *problems, sources []source, logs root.TrustedMaterial) []*trustedKey {
	var keys []*trustedKey
	for _, s := range sources {
		pub, err := cryptoutils.UnmarshalPEMToPublicKey(s.data)
		if err != nil {
			p.fail(s.path, "%s: not a PEM public key: %v", s.name, err)
			continue
		}
		// SHA-256 is what cosign signs legacy payloads with and what
		// containers/image verifies with, whatever the key size.
		verifier, err := signature.LoadVerifier(pub, crypto.SHA256)
		if err != nil {
			p.fail(s.path, "%s: unsupported public key: %v", s.name, err)
			continue
		}
		id, err := publicKeyID(pub)
		if err != nil {
			p.fail(s.path, "%s: %v", s.name, err)
			continue
		}
		key := root.NewExpiringKey(verifier, time.Time{}, time.Time{})
		material := root.TrustedMaterialCollection{
			root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil }),
		}
		if logs != nil {
			material = append(material, logs)
		}
		keys = append(keys, &trustedKey{id: id, material: material})
	}
	return keys
}

func publicKeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
