package protocol

import (
	"bytes"
	"encoding/json"
	"testing"
)

// encodeVerifyRequest must be Encode's generic output, byte for byte.
func TestEncodeVerifyRequestIsTheGenericEncoding(t *testing.T) {
	ref := "registry.example/a<b>&c"
	req := &VerifyRequest{
		APIVersion: APIVersion, Kind: KindVerifyRequest, Config: json.RawMessage(`{"k": "<v>"}`),
		Image: Image{Transport: "docker", DockerReference: &ref, Manifest: []byte("{\"m\":1}"), ManifestMIMEType: "application/x"},
		Signatures: []Signature{
			{Format: FormatSigstoreJSON, MIMEType: "m<>", Payload: bytes.Repeat([]byte{0xff, 1}, 5000), Annotations: map[string]string{"b": "2", "a": "</script>"}},
			{Format: FormatSigstoreBundle, MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", Bundle: json.RawMessage(`{ "x" : [1, 2] }`)},
			{Format: FormatSigstoreJSON},
		},
	}
	got, err := Encode(req)
	if err != nil {
		t.Fatal(err)
	}
	want, err := encodeSmall(req)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("encodeVerifyRequest differs from the generic encoding:\n%s\n%s", got, want)
	}
	// The announced costs bound what each entry takes.
	for _, s := range req.Signatures {
		one, _ := encodeSmall(&s)
		if hint := signatureSizeHint(s); int64(len(one)) > hint { // one's newline stands for the comma
			t.Errorf("%s entry takes %d bytes, its cost says %d", s.Format, len(one), hint)
		}
	}
}

func TestSignatureBudget(t *testing.T) {
	b := NewSignatureBudget(MaxRequestBytes - 100)
	if !b.Take(60) || b.Take(60) || !b.Take(40) || b.Take(1) {
		t.Error("Take does not follow what is left: want 60 taken, 60 refused, 40 taken, 1 refused")
	}
	if b.LeftOut() != 2 || !b.Full() {
		t.Errorf("left out %d, full %t; want 2, true", b.LeftOut(), b.Full())
	}
	b = NewSignatureBudget(0)
	for range MaxSignatures {
		if !b.Take(1) {
			t.Fatal("refused an entry within the count")
		}
	}
	if b.Take(1) || !b.Full() {
		t.Errorf("entry %d taken", MaxSignatures+1)
	}
	b.Skip()
	if b.LeftOut() != 2 {
		t.Errorf("left out %d, want 2", b.LeftOut())
	}
	if c := BundleCost("application/vnd.dev.sigstore.bundle.v0.3+json", 10); c < 10+int64(len(`{"format":"sigstore-bundle","bundle":}`)) {
		t.Errorf("BundleCost %d", c)
	}
}
