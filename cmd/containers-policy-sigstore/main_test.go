package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/policy-plugins/sigstore/internal/cli"
	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

var update = flag.Bool("update", false, "update the golden parts of the test scripts")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		cli.Program: func() { os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI contract in testdata/script: stdin, stdout and exit
// status of every command, as a host or a person sees them.
func TestScripts(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("REPO", repo)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"mkrequest": mkrequest,
			"mkindex":   mkindex,
			"signkey":   signkey,
		},
	})
}

// mkrequest CONFIG MANIFEST REFERENCE [SIGNATURE...] [-index INDEX [SIGNATURE...]]
// writes a VerifyRequest to stdout. CONFIG is a file whose $VARIABLES are
// expanded (so configs can name $REPO/testdata files); each SIGNATURE is a file
// holding one request signature entry (testdata/generated/*/signature.json);
// -index adds image.index with the manifest list INDEX and the signatures after it.
func mkrequest(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: mkrequest CONFIG MANIFEST REFERENCE [SIGNATURE...] [-index INDEX [SIGNATURE...]]")
	}
	config := json.RawMessage(os.Expand(ts.ReadFile(args[0]), ts.Getenv))
	manifest, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	ref := args[2]
	req := protocol.VerifyRequest{
		APIVersion: protocol.APIVersion, Kind: protocol.KindVerifyRequest, Config: config,
		Image:      protocol.Image{Transport: "docker", DockerReference: &ref, Manifest: manifest},
		Signatures: []protocol.Signature{},
	}
	sigs := &req.Signatures
	for i := 3; i < len(args); i++ {
		if args[i] == "-index" && i+1 < len(args) {
			index, err := os.ReadFile(ts.MkAbs(args[i+1]))
			ts.Check(err)
			req.Image.Index = &protocol.Index{Manifest: index, ManifestMIMEType: "application/vnd.oci.image.index.v1+json", Signatures: []protocol.Signature{}}
			sigs = &req.Image.Index.Signatures
			i++
			continue
		}
		var sig protocol.Signature
		ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[i])), &sig))
		*sigs = append(*sigs, sig)
	}
	out, err := json.Marshal(req)
	ts.Check(err)
	_, err = ts.Stdout().Write(out)
	ts.Check(err)
}

// mkindex OUT MANIFEST... writes an OCI image index listing the manifests
// (amd64 first, then arm64) to OUT.
func mkindex(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: mkindex OUT MANIFEST...")
	}
	var entries []map[string]any
	for i, path := range args[1:] {
		m, err := os.ReadFile(ts.MkAbs(path))
		ts.Check(err)
		entries = append(entries, map[string]any{
			"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": protocol.ManifestDigest(m), "size": len(m),
			"platform": map[string]string{"os": "linux", "architecture": []string{"amd64", "arm64"}[i%2]},
		})
	}
	out, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries})
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), out, 0o644))
}

// signkey KEY MANIFEST REFERENCE OUT signs MANIFEST for REFERENCE as cosign
// sign --key does without a transparency log, with a key made for the script
// the first time KEY is named, whose public key is KEY.pub in $WORK; the
// signature entry goes to OUT.
func signkey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: signkey KEY MANIFEST REFERENCE OUT")
	}
	pubPath := ts.MkAbs(args[0] + ".pub")
	scriptKeysMu.Lock()
	pair, ok := scriptKeys[pubPath]
	if !ok {
		var err error
		if pair, err = fixture.NewKeyPair(); err == nil {
			scriptKeys[pubPath] = pair
			err = os.WriteFile(pubPath, pair.PublicKeyPEM, 0o644)
		}
		scriptKeysMu.Unlock()
		ts.Check(err)
	} else {
		scriptKeysMu.Unlock()
	}
	m, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	in, err := scriptInstance()
	ts.Check(err)
	sig, err := in.SignLegacy(pair, fixture.CosignPayload(args[2], protocol.ManifestDigest(m)), fixture.LegacyOptions{NoSET: true})
	ts.Check(err)
	out, err := json.Marshal(protocol.Signature{Format: protocol.FormatSigstoreJSON, MIMEType: sig.MIMEType, Payload: sig.Payload, Annotations: sig.Annotations})
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[3]), out, 0o644))
}

// scriptKeys are signkey's keys by public key path (scripts run in parallel).
var (
	scriptKeysMu sync.Mutex
	scriptKeys   = map[string]*fixture.KeyPair{}
)

var scriptInstance = sync.OnceValues(fixture.NewInstance)
