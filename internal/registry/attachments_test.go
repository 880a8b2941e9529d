package registry_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"maps"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/internal/registry"
)

const simpleSigningMIMEType = "application/vnd.dev.cosign.simplesigning.v1+json"

// sigLayers returns the layers of the .sig manifest for d, with payloads.
func sigLayers(t *testing.T, repository, d string) ([]e2e.OCIDescriptor, [][]byte) {
	t.Helper()
	m := e2e.ParseManifest(t, first(e2e.GetManifest(t, repository, e2e.SigTag(d))))
	var payloads [][]byte
	for _, l := range m.Layers {
		payloads = append(payloads, e2e.GetBlob(t, repository, l.Digest))
	}
	return m.Layers, payloads
}

func first[A, B any](a A, _ B) A { return a }

// wantAttachments checks got are exactly the .sig layers stored for d.
func wantAttachments(t *testing.T, got []registry.Attachment, repository, d string) {
	t.Helper()
	layers, payloads := sigLayers(t, repository, d)
	if len(got) != len(layers) {
		t.Fatalf("got %d attachments, the .sig manifest has %d layers", len(got), len(layers))
	}
	for i, a := range got {
		if a.MIMEType != layers[i].MediaType || !bytes.Equal(a.Payload, payloads[i]) || !maps.Equal(a.Annotations, layers[i].Annotations) {
			t.Errorf("attachment %d = {%s %s %v}, want layer {%s %s %v}", i, a.MIMEType, a.Payload, a.Annotations,
				layers[i].MediaType, payloads[i], layers[i].Annotations)
		}
	}
}

func TestAttachmentsOfSignedImage(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	pushed := e2e.PushImage(t, addr+"/team/app:1.4")
	key := e2e.GenerateKeyPair(t)
	e2e.SignLegacy(t, key, pushed.DigestRef())
	e2e.SignLegacy(t, e2e.GenerateKeyPair(t), pushed.DigestRef())
	d := digest.Digest(pushed.Digest)

	got, err := open(t, pushed.Ref, testOptions(t)).Attachments(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d attachments, want 2 (two signatures)", len(got))
	}
	for _, a := range got {
		if a.MIMEType != simpleSigningMIMEType || a.Annotations["dev.cosignproject.cosign/signature"] == "" {
			t.Errorf("attachment %+v is not a cosign simple-signing signature", a)
		}
		if want := e2e.SimpleSigningPayload(pushed.Repository, pushed.Digest); !bytes.Equal(a.Payload, want) {
			t.Errorf("payload %s, want %s", a.Payload, want)
		}
	}
	wantAttachments(t, got, pushed.Repository, pushed.Digest)

	t.Run("is empty for an unsigned image", func(t *testing.T) {
		unsigned := e2e.PushImage(t, addr+"/team/app:unsigned")
		got, err := open(t, unsigned.Ref, testOptions(t)).Attachments(t.Context(), digest.Digest(unsigned.Digest))
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("Attachments = %v, %v; want an empty list and no error", got, err)
		}
	})
	t.Run("ignores bundle referrers", func(t *testing.T) {
		bundled := e2e.PushImage(t, addr+"/team/app:bundled")
		e2e.SignBundle(t, key, bundled.DigestRef())
		got, err := open(t, bundled.Ref, testOptions(t)).Attachments(t.Context(), digest.Digest(bundled.Digest))
		if err != nil || len(got) != 0 {
			t.Errorf("Attachments = %v, %v; want none", got, err)
		}
	})
	t.Run("rejects a malformed digest", func(t *testing.T) {
		if got, err := open(t, pushed.Ref, testOptions(t)).Attachments(t.Context(), "sha256:xyz"); err == nil {
			t.Errorf("Attachments(sha256:xyz) = %v, want an error", got)
		}
	})
}

func TestAttachmentsOfIndexAndInstances(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	pushed := e2e.PushIndex(t, addr+"/team/multi:2")
	key := e2e.GenerateKeyPair(t)
	e2e.SignLegacy(t, key, pushed.DigestRef())    // the index
	e2e.SignLegacy(t, key, pushed.InstanceRef(1)) // and the arm64 instance
	img := open(t, pushed.Ref, testOptions(t))

	for _, tc := range []struct {
		name, digest string
		signed       bool
	}{
		{"the index", pushed.Digest, true},
		{"the unsigned amd64 instance", pushed.Instances[0].Digest, false},
		{"the signed arm64 instance", pushed.Instances[1].Digest, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := img.Attachments(t.Context(), digest.Digest(tc.digest))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.signed {
				if len(got) != 0 {
					t.Errorf("got %d attachments of an unsigned manifest", len(got))
				}
				return
			}
			wantAttachments(t, got, pushed.Repository, tc.digest)
			if len(got) != 1 || !bytes.Equal(got[0].Payload, e2e.SimpleSigningPayload(pushed.Repository, tc.digest)) {
				t.Errorf("attachments %v, want one signing %s", got, tc.digest)
			}
		})
	}
}

func TestAttachmentsKeepCertificateChainAndRekorBundle(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	pushed := e2e.PushImage(t, addr+"/team/app:1.4")
	attached := e2e.Attachment{
		Payload:          e2e.SimpleSigningPayload(pushed.Ref, pushed.Digest),
		Signature:        "c2lnbmF0dXJl", // not checked by cosign attach nor here
		Certificate:      selfSignedPEM(t, "leaf"),
		CertificateChain: selfSignedPEM(t, "root"),
		RekorBundle:      []byte(`{"SignedEntryTimestamp":"c2V0","Payload":{"body":"Ym9keQ==","integratedTime":1700000000,"logIndex":7,"logID":"abcd"}}`),
	}
	e2e.AttachSignature(t, pushed.DigestRef(), attached)

	got, err := open(t, pushed.Ref, testOptions(t)).Attachments(t.Context(), digest.Digest(pushed.Digest))
	if err != nil {
		t.Fatal(err)
	}
	wantAttachments(t, got, pushed.Repository, pushed.Digest)
	if len(got) != 1 {
		t.Fatalf("got %d attachments, want 1", len(got))
	}
	a := got[0]
	if !bytes.Equal(a.Payload, attached.Payload) ||
		a.Annotations["dev.cosignproject.cosign/signature"] != attached.Signature ||
		a.Annotations["dev.sigstore.cosign/certificate"] != string(attached.Certificate) ||
		a.Annotations["dev.sigstore.cosign/chain"] != string(attached.CertificateChain) ||
		a.Annotations["dev.sigstore.cosign/bundle"] == "" {
		t.Errorf("attachment = {%s %v}, want the attached payload, signature, certificate, chain and bundle", a.Payload, a.Annotations)
	}
}

func TestAttachmentsFailWhenTheRegistryIsGone(t *testing.T) {
	e2e.SkipIfShort(t)
	var img *registry.Image
	var d digest.Digest
	t.Run("open while the registry runs", func(t *testing.T) {
		addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
		pushed := e2e.PushImage(t, addr+"/team/app:1.4")
		var err error
		img, err = registry.Open(t.Context(), pushed.Ref, testOptions(t))
		if err != nil {
			t.Fatal(err)
		}
		d = digest.Digest(pushed.Digest)
	})
	if img == nil {
		t.FailNow()
	}
	defer func() { _ = img.Close() }()
	if got, err := img.Attachments(t.Context(), d); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Attachments after the registry stopped = %v, %v; want a connection error", got, err)
	}
	if got, err := bundlesOf(t, img, d); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Bundles after the registry stopped = %v, %v; want a connection error", got, err)
	}
}

// selfSignedPEM is a throwaway self-signed certificate: cosign attach parses
// the certificate it is given, nothing here verifies it.
func selfSignedPEM(t *testing.T, cn string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
