package plugin

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// maxTrustFileBytes bounds a trust file read: they are a few KiB, and a path to a
// device or a huge file must fail rather than hang or exhaust memory.
const maxTrustFileBytes = 16 << 20

// source is one trust input: a file the config names, or inline data.
type source struct {
	path strictjson.Path // where in the config it was given
	name string          // the file name, or "inline data"
	data []byte
}

// takeSources reads one of a group of mutually exclusive keys in the
// containers/image style (keyPath | keyPaths | keyData | keyDatas); an empty key
// name means that spelling does not exist for the group. It returns nil when none
// is present.
func takeSources(p *problems, obj *strictjson.Object, pathKey, pathsKey, dataKey, datasKey string) []source {
	var present []string
	for _, k := range []string{pathKey, pathsKey, dataKey, datasKey} {
		if k != "" && obj.Has(k) {
			present = append(present, k)
		}
	}
	switch len(present) {
	case 0:
		return nil
	case 1:
	default:
		p.fail(obj.Path.Key(present[1]), "conflicts with %s: use %s", present[0], describeSources(nonEmpty(pathKey, pathsKey, dataKey, datasKey)...))
		return nil
	}
	key := present[0]
	path := obj.Path.Key(key)
	raw, _ := obj.Raw(key)
	switch key {
	case pathKey, dataKey:
		one, ok := readSource(p, path, raw, key == pathKey)
		if !ok {
			return nil
		}
		return []source{one}
	default:
		elems, err := strictjson.Array(path, raw)
		if err != nil {
			p.failErr(path, err)
			return nil
		}
		if len(elems) == 0 {
			p.fail(path, "must not be empty")
			return nil
		}
		var out []source
		for i, e := range elems {
			if one, ok := readSource(p, path.Index(i), e, key == pathsKey); ok {
				out = append(out, one)
			}
		}
		if len(out) != len(elems) {
			return nil
		}
		return out
	}
}

func readSource(p *problems, path strictjson.Path, raw []byte, isFile bool) (source, bool) {
	if !isFile {
		data, err := strictjson.Base64(path, raw)
		if err != nil {
			p.failErr(path, err)
			return source{}, false
		}
		return source{path: path, name: "inline data", data: data}, true
	}
	name, err := strictjson.String(path, raw)
	if err != nil {
		p.failErr(path, err)
		return source{}, false
	}
	if name == "" {
		p.fail(path, "must not be empty")
		return source{}, false
	}
	data, err := readTrustFile(name)
	if err != nil {
		p.fail(path, "%v", err)
		return source{}, false
	}
	return source{path: path, name: name, data: data}, true
}

// readTrustFile is a variable so a test can count reads: trust files are read once
// per config, however many signatures it evaluates.
var readTrustFile = func(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTrustFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(data) > maxTrustFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, maxTrustFileBytes)
	}
	return data, nil
}

func nonEmpty(keys ...string) []string {
	var out []string
	for _, k := range keys {
		if k != "" {
			out = append(out, k)
		}
	}
	return out
}

// parseTrust reads the trust material: a trusted_root.json, a containers/image style
// Fulcio CA with Rekor keys, or public keys (optionally with Rekor keys or a
// trusted_root.json for the logs and timestamp authorities).
func parseTrust(p *problems, obj, fulcio *strictjson.Object) *trust {
	roots := takeSources(p, obj, "trustedRootPath", "trustedRootPaths", "", "")
	var cas []source
	if fulcio != nil {
		cas = takeSources(p, fulcio, "caPath", "", "caData", "")
	}
	rekor := takeSources(p, obj, "rekorPublicKeyPath", "rekorPublicKeyPaths", "rekorPublicKeyData", "rekorPublicKeyDatas")
	keys := takeSources(p, obj, "keyPath", "keyPaths", "keyData", "keyDatas")
	if !p.ok() {
		return nil
	}

	switch {
	case rekor != nil && roots == nil && cas == nil && keys == nil:
		p.fail(configPath.Key("rekorPublicKeyPath"), "Rekor keys alone trust nothing: add fulcio.caPath or keyPath")
		return nil
	case roots == nil && cas == nil && keys == nil:
		p.fail(configPath, "no trust material: set trustedRootPath(s), or fulcio.caPath|caData with rekorPublicKey*, or keyPath(s)|keyData(s)")
		return nil
	case cas != nil && roots != nil:
		p.fail(configPath.Key("fulcio").Key("caPath"), "conflicts with trustedRootPath: the trusted root already lists the Fulcio CAs")
		return nil
	case cas != nil && keys != nil:
		p.fail(configPath.Key("keyPath"), "conflicts with fulcio: a requirement trusts either public keys or a Fulcio CA")
		return nil
	case roots != nil && rekor != nil:
		p.fail(configPath.Key("rekorPublicKeyPath"), "conflicts with trustedRootPath: the trusted root already lists the transparency logs")
		return nil
	case cas != nil && rekor == nil:
		// Parity with sigstoreSigned: a Fulcio certificate is short-lived, so only a
		// transparency log's signed time says when it was valid.
		p.fail(configPath.Key("fulcio"), "a Fulcio CA needs rekorPublicKeyPath (or rekorPublicKeyPaths, rekorPublicKeyData, rekorPublicKeyDatas)")
		return nil
	}

	t := &trust{}
	var logs root.TrustedMaterial
	switch {
	case roots != nil:
		logs = loadTrustedRoots(p, roots)
	case rekor != nil:
		logs = loadRekorKeys(p, rekor, cas)
	}
	t.keysNeedLog = keys != nil && logs != nil
	if !p.ok() {
		return nil
	}
	if keys == nil {
		t.material = logs
		return t
	}
	t.keys = loadPublicKeys(p, keys, logs)
	if !p.ok() {
		return nil
	}
	return t
}

func loadTrustedRoots(p *problems, sources []source) root.TrustedMaterial {
	var all root.TrustedMaterialCollection
	for _, s := range sources {
		tr, err := root.NewTrustedRootFromJSON(s.data)
		if err != nil {
			p.fail(s.path, "%s is not a valid Sigstore trusted root: %v", s.name, err)
			continue
		}
		all = append(all, tr)
	}
	if len(all) == 1 {
		return all[0]
	}
	return all
}

// loadRekorKeys builds trusted material from containers/image style inputs: Fulcio
// CA certificates (each one a trust anchor, as in sigstoreSigned's cert pool) and
// Rekor public keys.
func loadRekorKeys(p *problems, rekor, cas []source) root.TrustedMaterial {
	logs := map[string]*root.TransparencyLog{}
	for _, s := range rekor {
		pub, err := cryptoutils.UnmarshalPEMToPublicKey(s.data)
		if err != nil {
			p.fail(s.path, "%s: not a PEM public key: %v", s.name, err)
			continue
		}
		if _, ok := pub.(*ecdsa.PublicKey); !ok {
			p.fail(s.path, "%s: Rekor public key must be ECDSA, got %T", s.name, pub)
			continue
		}
		log, err := newRekorLog(pub)
		if err != nil {
			p.fail(s.path, "%s: %v", s.name, err)
			continue
		}
		logs[log.hexID] = log.log
	}
	var authorities []root.CertificateAuthority
	for _, s := range cas {
		certs, err := cryptoutils.UnmarshalCertificatesFromPEM(s.data)
		switch {
		case err != nil:
			p.fail(s.path, "%s: invalid PEM certificate: %v", s.name, err)
			continue
		case len(certs) == 0:
			p.fail(s.path, "%s: no PEM certificate found", s.name)
			continue
		}
		for _, c := range certs {
			authorities = append(authorities, &root.FulcioCertificateAuthority{Root: c})
		}
	}
	material, err := root.NewTrustedRoot(root.TrustedRootMediaType01, authorities, nil, nil, logs)
	if err != nil {
		p.fail(configPath, "building trust material: %v", err)
		return nil
	}
	return material
}

type rekorLog struct {
	hexID string
	log   *root.TransparencyLog
}

// rekorEpoch starts the validity of a Rekor key given without a window. It must not
// be the zero time: sigstore-go ignores a SET from a log whose start is unset.
var rekorEpoch = time.Unix(0, 0).UTC()

func newRekorLog(pub crypto.PublicKey) (*rekorLog, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	id := sha256.Sum256(der)
	return &rekorLog{
		hexID: hex.EncodeToString(id[:]),
		log: &root.TransparencyLog{
			ID:                  id[:],
			ValidityPeriodStart: rekorEpoch,
			HashFunc:            crypto.SHA256,
			PublicKey:           pub,
			SignatureHashFunc:   signatureHash(pub),
		},
	}, nil
}

// signatureHash is the hash a log key signs with, as trusted_root.json implies it.
func signatureHash(pub crypto.PublicKey) crypto.Hash {
	if k, ok := pub.(*ecdsa.PublicKey); ok {
		switch k.Curve.Params().BitSize {
		case 384:
			return crypto.SHA384
		case 521:
			return crypto.SHA512
		}
	}
	return crypto.SHA256
}
