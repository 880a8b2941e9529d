package plugin

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"maps"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

// Resource limits: hostile sizes get a clear error or a reject, in bounded time
// and memory, and the answer always fits the host's 1 MiB stdout limit. The
// measurements are logged (go test -v -run TestLimits); the bounds asserted are
// generous so that a loaded machine does not fail them, but an unbounded
// algorithm (quadratic, or one allocation per byte) does.

// measured runs f once and reports the bytes it allocated and its wall time.
func measured(f func()) (allocated uint64, elapsed time.Duration) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	elapsed = time.Since(start)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, elapsed
}

// serve runs one whole plugin invocation in-process, as the binary does.
func serve(t *testing.T, request []byte) (status int, stdout []byte) {
	t.Helper()
	var out, errOut bytes.Buffer
	status = protocol.Serve(Handler{}, []string{protocol.CommandVerify}, bytes.NewReader(request), &out, &errOut)
	if out.Len() > protocol.MaxStdoutBytes {
		t.Fatalf("the answer is %d bytes, more than a host reads", out.Len())
	}
	return status, out.Bytes()
}

func encodeRequest(t *testing.T, req *protocol.VerifyRequest) []byte {
	t.Helper()
	data, err := protocol.Encode(req)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func wantError(t *testing.T, stdout []byte, code, message string) {
	t.Helper()
	var e protocol.Error
	if err := json.Unmarshal(stdout, &e); err != nil || e.Kind != protocol.KindError || e.Code != code || !strings.Contains(e.Message, message) {
		t.Fatalf("answer %.300s, want a %s error containing %q", stdout, code, message)
	}
}

func TestLimits(t *testing.T) {
	env := newTestEnv(t)
	key, err := newKeyFile(t)
	if err != nil {
		t.Fatal(err)
	}
	keyConfig := map[string]any{"keyPath": key.path, "signedIdentity": map[string]any{"type": "matchRepository"}}
	gitlab := map[string]any{"issuer": gitlabIssuer, "subjectURI": gitlabURI}

	t.Run("10,000 signatures are a clear INVALID_REQUEST, decoded in bounded time and memory", func(t *testing.T) {
		sig := env.legacy(t, key.pair, env.repo, fixture.LegacyOptions{})
		sigs := make([]protocol.Signature, 10000)
		for i := range sigs {
			sigs[i] = sig
		}
		request := encodeRequest(t, env.request(t, keyConfig, sigs...))
		var status int
		var stdout []byte
		allocated, elapsed := measured(func() { status, stdout = serve(t, request) })
		t.Logf("request %d bytes: %v, %d MiB allocated", len(request), elapsed, allocated>>20)
		if status != protocol.ExitError {
			t.Fatalf("exit %d", status)
		}
		wantError(t, stdout, protocol.CodeInvalidRequest, "the request carries 10000 signature entries (signatures and image.index.signatures together); at most 1000 are allowed")
		if elapsed > 20*time.Second || allocated > 40*uint64(len(request)) {
			t.Fatalf("%v and %d bytes allocated for a %d-byte request", elapsed, allocated, len(request))
		}
	})

	t.Run("the most signatures a request may carry, all rejected with long reasons, fit the response", func(t *testing.T) {
		// An unknown format is quoted in its reason: the longest reason a
		// request controls, and full of characters JSON escapes.
		hostile := strings.Repeat("\"\\\x01\u2028é", 2000)
		sigs := make([]protocol.Signature, MaxSignatures)
		for i := range sigs {
			sigs[i] = protocol.Signature{Format: hostile, Unknown: true}
		}
		request := encodeRequest(t, env.request(t, keyConfig, sigs...))
		status, stdout := serve(t, request)
		var resp protocol.VerifyResponse
		if err := json.Unmarshal(stdout, &resp); status != protocol.ExitOK || err != nil || resp.Verdict != protocol.VerdictReject {
			t.Fatalf("exit %d: %.300s", status, stdout)
		}
		t.Logf("%d rejected signatures: response %d bytes, verdict reason %d bytes, signature reason %d bytes",
			len(sigs), len(stdout), len(resp.Reason), len(resp.Signatures[0].Reason))
		if len(resp.Signatures) != len(sigs) || !strings.HasSuffix(resp.Reason, "; and 997 more rejected (see signatures)") {
			t.Fatalf("%d entries, reason ends %q", len(resp.Signatures), resp.Reason[max(0, len(resp.Reason)-80):])
		}
		if len(stdout) > protocol.MaxStdoutBytes*3/4 {
			t.Fatalf("response %d bytes: too close to the host's limit", len(stdout))
		}
	})

	t.Run("a signature's reason is bounded and stays one printable line", func(t *testing.T) {
		resp := evaluate(t, env.request(t, keyConfig, protocol.Signature{Format: strings.Repeat("x\u2028\x00", 5000), Unknown: true}))
		reason := resp.Signatures[0].Reason
		if len(reason) > maxReasonBytes || !strings.HasSuffix(reason, "...") || strings.ContainsAny(reason, "\x00\u2028\n") {
			t.Fatalf("reason of %d bytes: %.100q", len(reason), reason)
		}
	})

	if !testing.Short() {
		t.Run("1,000 signatures that each verify and then reject take bounded time", func(t *testing.T) {
			other := env.legacy(t, env.leaf(t, fixture.EmailIdentity()), env.repo, fixture.LegacyOptions{})
			sigs := make([]protocol.Signature, MaxSignatures)
			for i := range sigs {
				// An annotation no one reads makes each entry distinct, so that
				// none is a copy whose verdict is reused: each is verified.
				sigs[i] = other
				sigs[i].Annotations = maps.Clone(other.Annotations)
				sigs[i].Annotations["org.example/copy"] = strconv.Itoa(i)
			}
			request := encodeRequest(t, env.request(t, env.trustedRoot(gitlab), sigs...))
			var stdout []byte
			allocated, elapsed := measured(func() { _, stdout = serve(t, request) })
			t.Logf("%d keyless signatures of another identity: %v (%v each), %d MiB allocated, response %d bytes",
				len(sigs), elapsed, elapsed/time.Duration(len(sigs)), allocated>>20, len(stdout))
			if !bytes.Contains(stdout, []byte(`"verdict":"reject"`)) {
				t.Fatalf("%.300s", stdout)
			}
			if elapsed > protocol.DefaultTimeout {
				t.Fatalf("%v: over the host's %v timeout", elapsed, protocol.DefaultTimeout)
			}
		})
	}

	t.Run("deeply nested JSON anywhere is refused at the depth limit, not walked", func(t *testing.T) {
		const depth = 100000
		nested := strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
		valid := env.legacy(t, key.pair, env.repo, fixture.LegacyOptions{})
		for _, tc := range []struct {
			name    string
			request func() []byte
			want    string
		}{
			{"in the request", func() []byte { return []byte(nested) }, "JSON nested deeper than 64 levels"},
			{"in the config", func() []byte {
				return bytes.Replace(encodeRequest(t, env.request(t, keyConfig)), []byte(`"config":{`), []byte(`"config":{"x":`+nested+`,`), 1)
			}, "config.x"},
			{"in a bundle", func() []byte {
				req := encodeRequest(t, env.request(t, keyConfig, protocol.Signature{Format: protocol.FormatSigstoreBundle, Bundle: json.RawMessage(`{}`)}))
				return bytes.Replace(req, []byte(`"bundle":{}`), []byte(`"bundle":{"x":`+nested+`}`), 1)
			}, "signatures[0].bundle"},
		} {
			request := tc.request()
			var stdout []byte
			allocated, elapsed := measured(func() { _, stdout = serve(t, request) })
			t.Logf("%s: %d bytes, %v, %d KiB allocated", tc.name, len(request), elapsed, allocated>>10)
			wantError(t, stdout, protocol.CodeInvalidRequest, tc.want)
			if elapsed > 5*time.Second || allocated > 20*uint64(len(request)) {
				t.Fatalf("%s: %v, %d bytes allocated", tc.name, elapsed, allocated)
			}
		}
		// In signed data the plugin parses itself (the SET, the payload),
		// nesting is a reject of that one signature.
		for _, tc := range []struct {
			name   string
			change func(*protocol.Signature)
			want   string
		}{
			{"in the SET annotation", func(s *protocol.Signature) { s.Annotations[annotationRekorSET] = nested }, "nested deeper than 64"},
			{"in the payload", func(s *protocol.Signature) { s.Payload = []byte(nested) }, "transparency log hashedrekord entry digest"},
		} {
			s := valid
			s.Annotations = map[string]string{}
			for k, v := range valid.Annotations {
				s.Annotations[k] = v
			}
			tc.change(&s)
			cfg := map[string]any{"keyPath": key.path, "rekorPublicKeyPath": env.rekorKeyPath, "signedIdentity": map[string]any{"type": "matchRepository"}}
			resp := evaluate(t, env.request(t, cfg, s))
			if resp.Verdict != protocol.VerdictReject || !strings.Contains(resp.Reason, tc.want) {
				t.Fatalf("%s: %s: %s", tc.name, resp.Verdict, resp.Reason)
			}
		}
	})

	t.Run("a 4 MiB payload is verified and accepted in bounded time and memory, or rejected when its signature fails", func(t *testing.T) {
		filler := strings.Repeat("x", 4<<20)
		payload := []byte(strings.Replace(string(fixture.CosignPayload(env.repo, env.digest)), `"optional":null`, `"optional":{"filler":"`+filler+`"}`, 1))
		signed, err := env.in.SignLegacy(key.pair, payload, fixture.LegacyOptions{NoSET: true})
		if err != nil {
			t.Fatal(err)
		}
		good := protocol.Signature{Format: protocol.FormatSigstoreJSON, MIMEType: signed.MIMEType, Payload: signed.Payload, Annotations: signed.Annotations}
		bad := good
		bad.Payload = append([]byte(nil), good.Payload...)
		bad.Payload[len(bad.Payload)/2] ^= 1
		for _, tc := range []struct {
			sig    protocol.Signature
			accept bool
		}{{good, true}, {bad, false}} {
			request := encodeRequest(t, env.request(t, keyConfig, tc.sig))
			var stdout []byte
			allocated, elapsed := measured(func() { _, stdout = serve(t, request) })
			t.Logf("a %d-byte payload (accept=%v), request %d bytes: %v, %d MiB allocated", len(tc.sig.Payload), tc.accept, len(request), elapsed, allocated>>20)
			if got := bytes.Contains(stdout, []byte(`"verdict":"accept"`)); got != tc.accept {
				t.Fatalf("%.300s", stdout)
			}
			if elapsed > 10*time.Second || allocated > 30*uint64(len(request)) {
				t.Fatalf("%v and %d bytes allocated", elapsed, allocated)
			}
		}
	})

	t.Run("a certificate chain of 50 entries rejects that signature quickly", func(t *testing.T) {
		leaf := env.leaf(t, fixture.GitLabCI())
		var chain50 []byte
		for range 49 {
			chain50 = append(chain50, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: env.in.Fulcio.Intermediate.Raw})...)
		}
		chain50 = append(chain50, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: env.in.Fulcio.Root.Raw})...)
		legacy := env.legacy(t, leaf, env.repo, fixture.LegacyOptions{})
		legacy.Annotations[annotationChain] = string(chain50)

		opts := env.cosignV3()
		opts.Version, opts.CertificateChain = "v0.1", true
		pb := env.bundleProto(t, env.in, env.leaf(t, fixture.GitHubReusableWorkflow()), opts)
		certs := pb.GetVerificationMaterial().GetX509CertificateChain().GetCertificates()
		for range 49 {
			certs = append(certs, certs[1])
		}
		pb.GetVerificationMaterial().GetX509CertificateChain().Certificates = certs
		bundle := bundleSignature(t, pb)

		for _, tc := range []struct {
			name string
			cfg  map[string]any
			sig  protocol.Signature
			want string
		}{
			{"a chain annotation", env.trustedRoot(gitlab), legacy, "dev.sigstore.cosign/chain annotation holds 50 certificates, at most 10 are accepted"},
			{"a bundle's x509CertificateChain", env.bundleConfig(map[string]any{"signedIdentity": digestOnly}), bundle, "x509CertificateChain holds 50 certificates besides the leaf, at most 10 are accepted"},
		} {
			var resp *protocol.VerifyResponse
			allocated, elapsed := measured(func() { resp = evaluate(t, env.request(t, tc.cfg, tc.sig)) })
			t.Logf("%s of 50: %v, %d KiB allocated", tc.name, elapsed, allocated>>10)
			if resp.Verdict != protocol.VerdictReject || !strings.Contains(resp.Reason, tc.want) {
				t.Fatalf("%s: %s: %s", tc.name, resp.Verdict, resp.Reason)
			}
			if elapsed > 2*time.Second {
				t.Fatalf("%s: %v", tc.name, elapsed)
			}
		}
	})

	t.Run("the chain limit keeps an ordinary chain, and an accept after rejections", func(t *testing.T) {
		leaf := env.leaf(t, fixture.GitLabCI())
		good := env.legacy(t, leaf, env.repo, fixture.LegacyOptions{})
		other := env.legacy(t, env.leaf(t, fixture.EmailIdentity()), env.repo, fixture.LegacyOptions{})
		cfg := env.trustedRoot(gitlab)
		cfg["signedIdentity"] = map[string]any{"type": "matchRepository"}
		resp := evaluate(t, env.request(t, cfg, other, other, other, other, good))
		if resp.Verdict != protocol.VerdictAccept || resp.Accepted.Signature != 4 {
			t.Fatalf("%s: %s", resp.Verdict, resp.Reason)
		}
	})
}

// TestReasonLimit: the per-signature length shrinks with the count, within bounds.
func TestReasonLimit(t *testing.T) {
	for _, tc := range []struct{ n, want int }{{0, maxReasonBytes}, {1, maxReasonBytes}, {256, maxReasonBytes}, {1000, 262}, {MaxSignatures * 10, minReasonBytes}} {
		if got := reasonLimit(tc.n); got != tc.want {
			t.Errorf("reasonLimit(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
	if got := boundReason("é"+strings.Repeat("a", 20), 8); got != "éaaa..." { // 2+3+3 bytes
		t.Errorf("boundReason cut %q", got)
	}
	if got := boundReason("aaaaaé"+strings.Repeat("a", 20), 9); got != "aaaaa..." { // the cut falls inside é
		t.Errorf("boundReason cut %q", got)
	}
}
