package check

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/protocol"
)

// Tests run a real plugin process: this test binary, linked into a plugin
// directory as "describe". TestMain serves it when started under that name.

func TestMain(m *testing.M) {
	switch filepath.Base(os.Args[0]) {
	case "describe":
		os.Exit(protocol.Serve(describeHandler{}, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	case "invalid-config":
		os.Exit(protocol.Serve(invalidConfigHandler{}, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// describeHandler is a plugin that reads requests with the protocol's
// decoder, as every plugin does, and rejects each signature, of the image
// and of its index, with a reason that says what it was sent.
type describeHandler struct{}

func (describeHandler) Metadata() protocol.Metadata {
	return protocol.Metadata{
		Name: "describe", Version: "1.0.0", APIVersions: []string{protocol.APIVersion},
		SignatureFormats: []string{protocol.FormatSigstoreJSON, protocol.FormatSigstoreBundle},
	}
}

func (describeHandler) ValidateConfig(*protocol.ValidateConfigRequest) (*protocol.ValidateConfigResponse, error) {
	return &protocol.ValidateConfigResponse{}, nil
}

func (describeHandler) Verify(req *protocol.VerifyRequest) (*protocol.VerifyResponse, error) {
	resp := &protocol.VerifyResponse{
		ManifestDigest: protocol.ManifestDigest(req.Image.Manifest), Verdict: protocol.VerdictReject,
		Reason: "no signature accepted", Signatures: []protocol.SignatureResult{},
	}
	for i, s := range req.Signatures {
		resp.Signatures = append(resp.Signatures, protocol.SignatureResult{
			Index: i, Reason: fmt.Sprintf("got %s of %d bytes", s.Format, len(s.Payload)+len(s.Bundle)),
		})
	}
	if index := req.Image.Index; index != nil {
		resp.IndexDigest = protocol.ManifestDigest(index.Manifest)
		resp.IndexSignatures = []protocol.SignatureResult{}
		for i, s := range index.Signatures {
			resp.IndexSignatures = append(resp.IndexSignatures, protocol.SignatureResult{
				Index: i, Reason: fmt.Sprintf("index %s: got %s of %d bytes", resp.IndexDigest, s.Format, len(s.Payload)+len(s.Bundle)),
			})
		}
	}
	return resp, nil
}

// invalidConfigHandler is a plugin that finds every config unusable, in
// verify as a plugin does (validate-config is not asked: hosts do not run it).
type invalidConfigHandler struct{ describeHandler }

func (invalidConfigHandler) Verify(*protocol.VerifyRequest) (*protocol.VerifyResponse, error) {
	return nil, protocol.Errorf(protocol.CodeInvalidConfig, "config.keyPath: open /nonexistent.pub: no such file or directory")
}

// describeHost is a host whose plugins are "describe" and "invalid-config".
func describeHost(t *testing.T) *protocol.Host {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"describe", "invalid-config"} {
		path := filepath.Join(dir, name)
		if err := os.Link(self, path); err != nil {
			copyExecutable(t, self, path) // another file system
		}
	}
	return &protocol.Host{Dirs: []string{dir}, Timeout: 20 * time.Second}
}

func copyExecutable(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, 0o755); err != nil { // OpenFile's mode is subject to the umask
		t.Fatal(err)
	}
}
