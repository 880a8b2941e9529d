package plugin

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/policy-plugins/sigstore/protocol"
)

// publicGood is the real public-good keyless signature containers/image ships:
// signed by mitr@redhat.com through GitHub OAuth, logged in the public Rekor.
const publicGood = "../testdata/public-good"

// readDirSignature reads a signature in containers/image's dir: transport format:
// a "\x00sigstore-json\n" header and the JSON of a signature.Sigstore.
func readDirSignature(t testing.TB, path string) protocol.Signature {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const header = "\x00sigstore-json\n"
	if !bytes.HasPrefix(data, []byte(header)) {
		t.Fatalf("%s: not a sigstore-json signature", path)
	}
	var sig struct {
		MIMEType    string            `json:"mimeType"`
		Payload     []byte            `json:"payload"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(data[len(header):], &sig); err != nil {
		t.Fatal(err)
	}
	return protocol.Signature{Format: protocol.FormatSigstoreJSON, MIMEType: sig.MIMEType, Payload: sig.Payload, Annotations: sig.Annotations}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func abs(t testing.TB, path string) string {
	t.Helper()
	p, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// configJSON renders a config map; tests write configs as Go values for brevity.
func configJSON(t testing.TB, cfg map[string]any) json.RawMessage {
	t.Helper()
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func strPtr(s string) *string { return &s }
