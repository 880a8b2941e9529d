package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImportGraph keeps the plugin binary to what verify needs: a pull starts
// it, so every package it links is paid for (package init, binary size) by
// every image a host checks. The registry client, the TUF client and the
// check and lint code belong to containers-policy-sigstore, which the host
// never runs.
func TestImportGraph(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("go is not on $PATH:", err)
	}
	cmd := exec.Command("go", "list", "-tags=containers_image_openpgp", "-deps",
		"-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, ".")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	importers := map[string][]string{} // package -> the packages of the graph that import it
	var linked []string
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		linked = append(linked, fields[0])
		for _, imp := range fields[1:] {
			importers[imp] = append(importers[imp], fields[0])
		}
	}
	if len(linked) < 50 {
		t.Fatalf("go list printed %d packages; expected the whole graph:\n%s", len(linked), out)
	}

	const ours = "github.com/policy-plugins/sigstore/"
	allowedOurs := []string{
		ours + "cmd/containers-policy-sigstore-plugin",
		ours + "plugin",
		ours + "protocol",
		ours + "protocol/strictjson",
	}
	// Prefixes no package of the graph may have, each with the reason.
	forbidden := []struct{ prefix, why string }{
		{ours + "internal/", "check, lint, the registry client, the TUF client and the policy parser are the command's"},
		{"github.com/google/go-containerregistry/pkg/v1", "go-containerregistry's registry client"},
		{"github.com/google/go-containerregistry/pkg/authn", "go-containerregistry's credentials"},
		{"go.podman.io/image/v5/docker/", "containers/image's docker transport"},
		{"go.podman.io/image/v5/transports", "containers/image's transports"},
		{"go.podman.io/image/v5/signature", "containers/image's policy evaluation"},
		{"go.podman.io/image/v5/image", "containers/image's image reader"},
		{"go.podman.io/image/v5/copy", "containers/image's copy"},
		{"github.com/theupdateframework/go-tuf/client", "go-tuf v1's client"},
	}
	exact := map[string]string{
		"go.podman.io/image/v5/docker": "containers/image's docker transport",
	}
	for _, pkg := range linked {
		if strings.HasPrefix(pkg, ours) && !slices.Contains(allowedOurs, pkg) {
			t.Errorf("the plugin binary links %s; only %v belong in it", pkg, allowedOurs)
		}
		if why, ok := exact[pkg]; ok {
			t.Errorf("the plugin binary links %s (%s), imported by %v", pkg, why, importers[pkg])
		}
		for _, f := range forbidden {
			// docker/reference is the reference grammar signedIdentity is defined by, not the transport.
			if strings.HasPrefix(pkg, f.prefix) && pkg != "go.podman.io/image/v5/docker/reference" {
				t.Errorf("the plugin binary links %s (%s), imported by %v", pkg, f.why, importers[pkg])
			}
		}
	}

	// The TUF client: sigstore-go's pkg/root imports its pkg/tuf (for
	// NewLiveTrustedRoot), which imports go-tuf's updater, so both are linked
	// whatever the plugin does. None of ours may use them: the plugin reads a
	// trusted_root.json file, and only `trusted-root update` speaks TUF.
	for _, tuf := range []string{"github.com/sigstore/sigstore-go/pkg/tuf", "github.com/theupdateframework/go-tuf/v2/metadata/updater"} {
		for _, by := range importers[tuf] {
			if strings.HasPrefix(by, ours) {
				t.Errorf("%s imports the TUF client %s", by, tuf)
			}
		}
	}
	if got, want := importers["github.com/sigstore/sigstore-go/pkg/tuf"], []string{"github.com/sigstore/sigstore-go/pkg/root"}; len(got) > 0 && !slices.Equal(got, want) {
		t.Errorf("sigstore-go's pkg/tuf is imported by %v, want only %v (sigstore-go's own import)", got, want)
	}
}
