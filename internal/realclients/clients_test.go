package realclients

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/internal/upstreamclients"
)

// client is one real client, run as its users run it.
type client struct {
	name string
	// pull runs the client on ref under policy in s: the patched build, or
	// with pristine the one built against containers/image as released;
	// opts change the run where the client is one process per pull
	// (measured).
	pull func(t *testing.T, s *setting, policy, ref string, pristine bool, opts ...upstreamclients.Option) outcome
	// hasPristine: make upstream-clients builds a released version too
	// (skopeo only: podman is built patched only).
	hasPristine bool
	// measured: the client is one process per pull, so that
	// upstreamclients.Usage measures the pull (not the image proxy, which
	// serves many).
	measured bool
	// deadlineFlag is the client's flag bounding the whole operation by a
	// duration, the context containers/image gets; "" when it has none.
	deadlineFlag string
	// evaluatesList: for a list, the client evaluates the policy for the
	// list itself too and accepts when either level is accepted (the image
	// proxy); the others evaluate the instance they copy.
	evaluatesList bool
	// policyRefusal is what the client says before the policy's error when
	// the policy refuses an image it copies: copy.Image's "Source image
	// rejected: " (podman, skopeo copy); the proxy passes the error on as
	// it is.
	policyRefusal string
}

// outcome is a client's verdict on one image.
type outcome struct {
	accepted bool
	// message is the client's error: its standard error, or the proxy's
	// error reply.
	message string
	// stderr is the client's standard error, whatever its verdict (empty
	// for the image proxy).
	stderr string
	// digest is the manifest digest an accepting image proxy reported from
	// GetManifest (the manifest as read, before its conversion to OCI).
	digest string
	// layoutManifest is the manifest an accepting skopeo copy wrote into its
	// OCI layout.
	layoutManifest []byte
	// imageID is the image ID an accepting podman pull printed: the digest of
	// the config, without "sha256:".
	imageID string
}

// sourceRejected is how copy.Image words a refusal by the policy.
const sourceRejected = "Source image rejected: "

var (
	podmanPull = client{name: "podman pull", measured: true, policyRefusal: sourceRejected, pull: func(t *testing.T, s *setting, policy, ref string, pristine bool, opts ...upstreamclients.Option) outcome {
		t.Helper()
		if pristine {
			t.Fatal("podman has no build against containers/image as released")
		}
		stdout, stderr, err := upstreamclients.PodmanPull(t, policy, s.registriesD, "docker://"+ref,
			append(opts, s.env(), upstreamclients.Args(s.args...))...)
		if err != nil {
			return outcome{message: upstreamclients.Messages(stderr), stderr: stderr}
		}
		lines := strings.Fields(stdout)
		if len(lines) == 0 {
			t.Fatalf("podman pull printed no image ID; stderr: %s", stderr)
		}
		return outcome{accepted: true, imageID: lines[len(lines)-1], stderr: stderr}
	}}

	skopeoCopy = client{name: "skopeo copy", hasPristine: true, measured: true, deadlineFlag: "--command-timeout", policyRefusal: sourceRejected, pull: func(t *testing.T, s *setting, policy, ref string, pristine bool, opts ...upstreamclients.Option) outcome {
		t.Helper()
		run := upstreamclients.SkopeoCopy
		if pristine {
			run = upstreamclients.PristineSkopeoCopy
		}
		layout := filepath.Join(t.TempDir(), "oci")
		// An OCI layout cannot store signatures.
		_, stderr, err := run(t, policy, s.registriesD, "docker://"+ref, "oci:"+layout+":latest",
			append(opts, s.env(), upstreamclients.Args(append([]string{"--remove-signatures"}, s.args...)...))...)
		if err != nil {
			wantNoLayout(t, layout)
			return outcome{message: upstreamclients.Messages(stderr), stderr: stderr}
		}
		return outcome{accepted: true, layoutManifest: copiedManifest(t, layout), stderr: stderr}
	}}

	imageProxy = client{name: "image proxy", hasPristine: true, evaluatesList: true, pull: func(t *testing.T, s *setting, policy, ref string, pristine bool, _ ...upstreamclients.Option) outcome {
		t.Helper()
		bin := upstreamclients.Skopeo
		if pristine {
			bin = upstreamclients.PristineSkopeo
		}
		return proxyOpen(t, s, bin, policy, ref)
	}}
)

// wantAccepted asserts that the client accepted and took the image whose
// manifest is manifest (for a list: the instance for this machine).
func (o outcome) wantAccepted(t *testing.T, manifest []byte) {
	t.Helper()
	if !o.accepted {
		t.Fatalf("refused, want accepted: %s", o.message)
	}
	switch {
	case o.layoutManifest != nil:
		if e2e.Digest(o.layoutManifest) == e2e.Digest(manifest) {
			return
		}
		// An OCI layout holds OCI manifests only: copy converts a Docker
		// schema 2 image, config included, keeping its layer blobs (which
		// name the image: every test image has content of its own).
		src, dst := e2e.ParseManifest(t, manifest), e2e.ParseManifest(t, o.layoutManifest)
		if src.MediaType != e2e.MediaTypeDockerManifest || dst.MediaType != e2e.MediaTypeOCIManifest ||
			layerDigests(src) != layerDigests(dst) {
			t.Errorf("copied manifest %s, want %s or its conversion to OCI", o.layoutManifest, manifest)
		}
	case o.digest != "":
		if want := e2e.Digest(manifest); o.digest != want {
			t.Errorf("took manifest %s, want %s", o.digest, want)
		}
	case o.imageID != "":
		if want := e2e.ParseManifest(t, manifest).Config.Digest; "sha256:"+o.imageID != want {
			t.Errorf("pulled image ID %s, want the config digest %s", o.imageID, want)
		}
	default:
		t.Fatal("accepted, but the client said nothing of what it took")
	}
}

// wantRefused asserts that the client refused the image, saying every
// fragment.
func (o outcome) wantRefused(t *testing.T, fragments ...string) {
	t.Helper()
	if o.accepted {
		t.Fatalf("accepted, want refused saying %q", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(o.message, f) {
			t.Errorf("the refusal does not say %q:\n%s", f, o.message)
		}
	}
}

// layerDigests is a manifest's layer digests, in order.
func layerDigests(m e2e.OCIManifest) string {
	var ds []string
	for _, l := range m.Layers {
		ds = append(ds, l.Digest)
	}
	return strings.Join(ds, " ")
}

// copiedManifest is the one manifest an OCI layout's index.json names,
// tagged latest, after checking that it and the blobs it names are there
// with their digests.
func copiedManifest(t *testing.T, layout string) []byte {
	t.Helper()
	var index struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	data, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil {
		t.Fatalf("skopeo copy succeeded but wrote no OCI layout: %v", err)
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatalf("index.json: %v", err)
	}
	if len(index.Manifests) != 1 || index.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "latest" {
		t.Fatalf("index.json %s, want one manifest tagged latest", data)
	}
	manifest := e2e.OCILayoutBlob(t, layout, index.Manifests[0].Digest)
	m := e2e.ParseManifest(t, manifest)
	if m.Config == nil {
		t.Fatalf("copied manifest %s has no config", manifest)
	}
	e2e.OCILayoutBlob(t, layout, m.Config.Digest)
	for _, l := range m.Layers {
		e2e.OCILayoutBlob(t, layout, l.Digest)
	}
	return manifest
}

// wantNoLayout asserts that a refused copy wrote no blob and no index entry
// (opening the destination may create the layout's directories).
func wantNoLayout(t *testing.T, layout string) {
	t.Helper()
	blobs, err := os.ReadDir(filepath.Join(layout, "blobs", "sha256"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if len(blobs) != 0 {
		t.Errorf("a refused copy wrote %d blobs into the OCI layout", len(blobs))
	}
	index, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err == nil && strings.Contains(string(index), "sha256:") {
		t.Errorf("a refused copy wrote an index entry: %s", index)
	}
}
