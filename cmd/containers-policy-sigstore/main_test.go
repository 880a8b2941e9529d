package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/policy-plugins/sigstore/internal/cli"
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
		},
	})
}

// mkrequest CONFIG MANIFEST REFERENCE [SIGNATURE...] writes a VerifyRequest to
// stdout. CONFIG is a file whose $VARIABLES are expanded (so configs can name
// $REPO/testdata files); each SIGNATURE is a file holding one request signature
// entry (testdata/generated/*/signature.json).
func mkrequest(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: mkrequest CONFIG MANIFEST REFERENCE [SIGNATURE...]")
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
	for _, path := range args[3:] {
		var sig protocol.Signature
		ts.Check(json.Unmarshal([]byte(ts.ReadFile(path)), &sig))
		req.Signatures = append(req.Signatures, sig)
	}
	out, err := json.Marshal(req)
	ts.Check(err)
	_, err = ts.Stdout().Write(out)
	ts.Check(err)
}
