package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/e2e"
)

const (
	mib = 1 << 20
	// maxCheckHeapMiB bounds check's own Go heap in use, measured in-process
	// (e2e.HeapPeak); maxTreeRSSMiB the peak RSS of a check process and the
	// plugin it runs, which wait4 reports as one: the plugin, which holds
	// the request it is sent (up to 64 MiB) and its decoded copy, is the
	// larger of the two.
	maxCheckHeapMiB = 200
	maxTreeRSSMiB   = 256
)

// childCheck runs check as its own process (this test binary under the
// command's name) and returns its result and its peak RSS in MiB: the
// largest of check's and the plugin's, as wait4 reports a child's.
func (env *checkEnv) childCheck(t *testing.T, policyPath, image string) (checkResult, int64) {
	t.Helper()
	bin, err := exec.LookPath(Program)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "check", "--policy", policyPath, "--registries.d", env.registriesD, "--output", "json", "--tls-verify=false", image)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Env = &stdout, &stderr, os.Environ()
	start := time.Now()
	runErr := cmd.Run()
	r := checkResult{status: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	if ee := (*exec.ExitError)(nil); runErr != nil && !asExitError(runErr, &ee) {
		t.Fatal(runErr)
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss >> 10 // KiB on Linux
	if err := json.Unmarshal(stdout.Bytes(), &r.report); err != nil {
		t.Fatalf("check --output json: stdout is not a report: %v\n%s\n%s", err, r.stdout, r.stderr)
	}
	found, leftOut := 0, 0
	for _, im := range r.report.Images {
		found, leftOut = found+len(im.Signatures), leftOut+im.SignaturesLeftOut
	}
	t.Logf("check: exit %d after %s, peak RSS %d MiB; %d signatures reported, %d left out\nstderr:\n%s",
		r.status, time.Since(start).Round(time.Millisecond), rss, found, leftOut, r.stderr)
	return r, rss
}

func asExitError(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError) //nolint:errorlint // exec returns it unwrapped
	*target = e
	return ok
}

// wantAcceptedWithin asserts an acceptance with some candidates left out,
// and a peak RSS under maxTreeRSSMiB.
func wantAcceptedWithin(t *testing.T, r checkResult, rss int64) {
	t.Helper()
	if len(r.report.Images) != 1 {
		t.Fatalf("%d images evaluated, want 1", len(r.report.Images))
	}
	im := r.report.Images[0]
	if r.status != ExitOK || r.report.Verdict != "accepted" {
		reasons := []string{}
		for _, req := range im.Requirements {
			reasons = append(reasons, req.Reason)
			for _, s := range req.Signatures {
				if !strings.Contains(s.Reason, `unknown field \"x\"`) {
					reasons = append(reasons, fmt.Sprintf("[%d] %s", s.Signature, s.Reason))
				}
			}
		}
		t.Errorf("exit %d, verdict %q; want the valid signature accepted: %q", r.status, r.report.Verdict, reasons)
	}
	if im.SignaturesLeftOut == 0 {
		t.Errorf("no signature left out, yet they cannot all fit in one request")
	}
	if rss > maxTreeRSSMiB {
		t.Errorf("peak RSS %d MiB (check or its plugin), want at most %d", rss, maxTreeRSSMiB)
	}
}

// Anyone who can push a referrer to the repository used to make every
// check of a validly signed image fail: 17 referrers of 4 MiB made the
// request larger than the host allows.
func TestCheckAcceptsAValidAttachmentNextTo17BigReferrers(t *testing.T) {
	env := newCheckEnv(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, env.addr+"/team/app:1")
	e2e.SignLegacy(t, key, img.DigestRef())
	e2e.PutReferrersTag(t, img, e2e.PushBigReferrers(t, img, 17))
	r, rss := env.childCheck(t, env.policy(t, pluginRequirement(keyConfig(key, "matchRepository"))), img.Ref)
	wantAcceptedWithin(t, r, rss)
}

// A valid bundle among 100 referrers of 4 MiB: the ones that do not fit are
// left out unread, the small valid one still fits, memory stays bounded.
func TestCheckAcceptsAValidBundleAmong100BigReferrers(t *testing.T) {
	env := newCheckEnv(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, env.addr+"/team/app:1")
	e2e.SignBundle(t, key, img.DigestRef())
	data, _ := e2e.GetManifest(t, img.Repository, e2e.FallbackTag(img.Digest))
	valid := e2e.ParseManifest(t, data).Manifests
	if len(valid) != 1 {
		t.Fatalf("cosign listed %d referrers, want 1", len(valid))
	}
	big := e2e.PushBigReferrers(t, img, 100)
	e2e.PutReferrersTag(t, img, slices.Concat(big[:60], valid, big[60:]))
	// cosign v3's bundle names the digest only.
	r, rss := env.childCheck(t, env.policy(t, pluginRequirement(keyConfig(key, "digestOnly"))), img.Ref)
	wantAcceptedWithin(t, r, rss)
}

// 40 attachments of 4 MiB before a valid one in the .sig manifest: 1,374
// MiB and a refusal before; now what fits is read, the rest left out unread.
func TestCheckAcceptsAValidAttachmentAfter40BigOnes(t *testing.T) {
	env := newCheckEnv(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, env.addr+"/team/app:1")
	e2e.SignLegacy(t, key, img.DigestRef())
	sigData, _ := e2e.GetManifest(t, img.Repository, e2e.SigTag(img.Digest))
	sig := e2e.ParseManifest(t, sigData)
	big := e2e.OCIDescriptor{
		MediaType: sig.Layers[0].MediaType, Digest: e2e.PutBlob(t, img.Repository, e2e.BigBlob), Size: int64(len(e2e.BigBlob)),
		Annotations: map[string]string{"dev.cosignproject.cosign/signature": "c2ln"},
	}
	var layers []e2e.OCIDescriptor
	for range 40 {
		layers = append(layers, big)
	}
	sig.Layers = append(layers, sig.Layers...)
	edited, err := json.Marshal(sig)
	if err != nil {
		t.Fatal(err)
	}
	e2e.PutManifest(t, img.Repository, e2e.SigTag(img.Digest), e2e.MediaTypeOCIManifest, edited)
	policy := env.policy(t, pluginRequirement(keyConfig(key, "matchRepository")))
	r, rss := env.childCheck(t, policy, img.Ref)
	wantAcceptedWithin(t, r, rss)
	// check's own heap, in this process (the plugin runs apart).
	var inProcess checkResult
	peak := e2e.HeapPeak(t, func() { inProcess = env.check(t, policy, img.Ref, "json") })
	t.Logf("check in-process: heap in use peaked %d MiB above its start", peak/mib)
	if inProcess.status != ExitOK || peak > maxCheckHeapMiB*mib {
		t.Errorf("in-process check: exit %d, heap peak +%d MiB; want 0 and at most %d MiB", inProcess.status, peak/mib, maxCheckHeapMiB)
	}
	if !strings.Contains(r.stdout, `"signaturesLeftOut"`) {
		t.Errorf("the report does not say how many were left out")
	}
}

// One budget per request covers the instance's and the index's signatures,
// in a host's order (the instance's attachments, the index's, the
// instance's bundles, the index's): 17 referrers of 4 MiB on the instance,
// and as many on the index, would each fill a request of their own; the
// valid attachment of the index, offered before all of them, still goes.
func TestCheckAcceptsAnIndexSignatureNextTo17BigReferrersOfTheInstance(t *testing.T) {
	env := newCheckEnv(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	index := e2e.PushIndex(t, env.addr+"/team/multi:1")
	e2e.SignLegacy(t, key, index.DigestRef())
	indexImage := e2e.Image{Repository: index.Repository, Digest: index.Digest, Manifest: index.Manifest, MIMEType: index.MIMEType}
	e2e.PutReferrersTag(t, indexImage, e2e.PushBigReferrers(t, indexImage, 17))
	for _, inst := range index.Instances {
		img := e2e.Image{Repository: index.Repository, Digest: inst.Digest, Manifest: inst.Manifest}
		e2e.PutReferrersTag(t, img, e2e.PushBigReferrers(t, img, 17))
	}
	r, rss := env.childCheck(t, env.policy(t, pluginRequirement(keyConfig(key, "matchRepository"))), index.Ref)
	wantAcceptedWithin(t, r, rss)
	if req := r.report.Images[0].Requirements[0]; req.AcceptedVia != "index" {
		t.Errorf("accepted via %q, want the index's signature", req.AcceptedVia)
	}
	if n := len(r.report.IndexSignatures); n != 1 || r.report.IndexSignatures[0].Format != "sigstore-json" || r.report.IndexSignaturesLeftOut != 17 {
		t.Errorf("index signatures %+v, %d left out; want the attachment, the 17 bundles left out unread (the instance's took the room first)",
			r.report.IndexSignatures, r.report.IndexSignaturesLeftOut)
	}

	// --platform all reads the index's signatures once; each instance's
	// request takes of them what still fits at their places in its order.
	all := env.check(t, env.policy(t, pluginRequirement(keyConfig(key, "matchRepository"))), index.Ref, "json", "--platform", "all")
	if all.status != ExitOK || len(all.report.Images) != len(index.Instances) {
		t.Fatalf("--platform all: exit %d, %d images; want every instance accepted", all.status, len(all.report.Images))
	}
	for _, im := range all.report.Images {
		req := im.Requirements[0]
		if req.AcceptedVia != "index" || im.SignaturesLeftOut == 0 {
			t.Errorf("--platform all, %s: accepted via %q, %d left out; want the index's signature, the instance's big bundles partly left out", im.Digest, req.AcceptedVia, im.SignaturesLeftOut)
		}
		if sent := req.IndexSignatures[len(req.IndexSignatures)-1]; !strings.HasPrefix(sent.Reason, "not sent to plugins: past what one request carries") {
			t.Errorf("--platform all, %s: the index's last bundle: %+v, want it past this request's budget", im.Digest, sent)
		}
	}
}
