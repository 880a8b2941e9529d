package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

// endless is a request that never ends: the reader must stop at the limit.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.read += int64(len(p))
	return len(p), nil
}

func measuredServe(t *testing.T, h Handler, args []string, stdin io.Reader) (status int, stdout []byte, allocated uint64, elapsed time.Duration) {
	t.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	var out, errOut bytes.Buffer
	status = Serve(h, args, stdin, &out, &errOut)
	elapsed = time.Since(start)
	runtime.ReadMemStats(&after)
	if out.Len() > MaxStdoutBytes {
		t.Fatalf("the answer is %d bytes, more than a host reads", out.Len())
	}
	return status, out.Bytes(), after.TotalAlloc - before.TotalAlloc, elapsed
}

func TestLimits(t *testing.T) {
	neverCalled := stubHandler{verify: func(*VerifyRequest) (*VerifyResponse, error) {
		t.Fatal("the handler was called")
		return nil, nil
	}}

	t.Run("a request over 64 MiB is INVALID_REQUEST after reading at most the limit", func(t *testing.T) {
		stdin := &endless{}
		status, stdout, allocated, elapsed := measuredServe(t, neverCalled, []string{CommandVerify}, io.LimitReader(stdin, 1<<30))
		t.Logf("an endless request: %d MiB read, %v, %d MiB allocated", stdin.read>>20, elapsed, allocated>>20)
		if status != ExitError || !bytes.Contains(stdout, []byte(`"code":"INVALID_REQUEST"`)) || !bytes.Contains(stdout, []byte("larger than 67108864 bytes")) {
			t.Fatalf("exit %d: %s", status, stdout)
		}
		if stdin.read > MaxRequestBytes+1<<20 {
			t.Fatalf("read %d bytes of an oversized request", stdin.read)
		}
		// io.ReadAll doubles its buffer: a few times the limit, never more.
		if allocated > 4*MaxRequestBytes {
			t.Fatalf("%d bytes allocated to refuse it", allocated)
		}
	})

	t.Run("a request of exactly 64 MiB is read and decoded", func(t *testing.T) {
		request := []byte(verifyRequest(`{"transport": "docker", "dockerReference": null, "manifest": "`+manifestB64+`"}`, `[]`))
		padded := append(request[:len(request)-1:len(request)-1], bytes.Repeat([]byte(" "), MaxRequestBytes-len(request))...)
		padded = append(padded, '}')
		called := false
		h := stubHandler{verify: func(*VerifyRequest) (*VerifyResponse, error) {
			called = true
			return &VerifyResponse{Verdict: VerdictReject, Reason: "no", Signatures: []SignatureResult{}}, nil
		}}
		status, stdout, allocated, elapsed := measuredServe(t, h, []string{CommandVerify}, bytes.NewReader(padded))
		t.Logf("a %d-byte request: %v, %d MiB allocated", len(padded), elapsed, allocated>>20)
		if status != ExitOK || !called {
			t.Fatalf("exit %d: %s", status, stdout)
		}
	})

	t.Run("deep nesting is refused at depth 64 without walking the rest", func(t *testing.T) {
		nested := strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20)
		status, stdout, allocated, elapsed := measuredServe(t, neverCalled, []string{CommandVerify}, strings.NewReader(nested))
		t.Logf("2 MiB of nesting: %v, %d KiB allocated", elapsed, allocated>>10)
		if status != ExitError || !bytes.Contains(stdout, []byte("JSON nested deeper than 64 levels")) {
			t.Fatalf("exit %d: %s", status, stdout)
		}
		if allocated > 16<<20 {
			t.Fatalf("%d bytes allocated", allocated)
		}
	})

	t.Run("a response over the host's stdout limit becomes an INTERNAL error that says so", func(t *testing.T) {
		request := verifyRequest(`{"transport": "docker", "dockerReference": null, "manifest": "`+manifestB64+`"}`, `[]`)
		huge := stubHandler{verify: func(*VerifyRequest) (*VerifyResponse, error) {
			return &VerifyResponse{Verdict: VerdictAccept, Reason: strings.Repeat("x", MaxStdoutBytes), Signatures: []SignatureResult{}}, nil
		}}
		status, stdout, _, _ := measuredServe(t, huge, []string{CommandVerify}, strings.NewReader(request))
		var e Error
		if err := json.Unmarshal(stdout, &e); status != ExitError || err != nil || e.Code != CodeInternal || !strings.Contains(e.Message, "more than the 1048576 a host reads") {
			t.Fatalf("exit %d: %.300s", status, stdout)
		}
	})

	t.Run("an error message is cut to fit, whatever it quotes", func(t *testing.T) {
		request := verifyRequest(`{"transport": "docker", "dockerReference": null, "manifest": "`+manifestB64+`"}`, `[]`)
		long := stubHandler{verify: func(*VerifyRequest) (*VerifyResponse, error) {
			return nil, Errorf(CodeInvalidConfig, "config.x: unknown value %q", strings.Repeat("\x01", 4<<20))
		}}
		status, stdout, _, _ := measuredServe(t, long, []string{CommandVerify}, strings.NewReader(request))
		var e Error
		if err := json.Unmarshal(stdout, &e); status != ExitError || err != nil || e.Code != CodeInvalidConfig || !strings.HasSuffix(e.Message, "...") {
			t.Fatalf("exit %d: %.300s", status, stdout)
		}
		if len(e.Message) > maxErrorMessageBytes+3 {
			t.Fatalf("message of %d bytes", len(e.Message))
		}
	})
}

// TestSignatureLimitCountsBothLists: at most MaxSignatures entries in
// signatures and image.index.signatures together, counted before any entry is
// decoded (the entries here are malformed: the limit is what is reported).
func TestSignatureLimitCountsBothLists(t *testing.T) {
	entries := func(n int, entry string) string {
		return "[" + strings.TrimSuffix(strings.Repeat(entry+",", n), ",") + "]"
	}
	good := `{"format": "sigstore-json", "mimeType": "m", "payload": "e30="}`
	bad := `{"format": "sigstore-json", "mimeType": "m", "payload": "%%"}`
	request := func(image, index int, entry string) []byte {
		img := imageWithIndex(instanceB64, `{"manifest": "`+indexB64+`", "signatures": `+entries(index, entry)+`}`)
		return []byte(verifyRequest(img, entries(image, entry)))
	}
	for _, tc := range []struct {
		name         string
		image, index int
		entry        string
		want         string // empty: decodes
	}{
		{"1000 in the image's list", MaxSignatures, 0, good, ""},
		{"1000 in the index's list", 0, MaxSignatures, good, ""},
		{"1000 split between the lists", 400, 600, good, ""},
		{"1001 split between the lists", 500, 501, bad, "the request carries 1001 signature entries (signatures and image.index.signatures together); at most 1000 are allowed"},
		{"1000 in the image's list and one in the index's", MaxSignatures, 1, bad, "carries 1001 signature entries"},
		{"one in the image's list and 1000 in the index's", 1, MaxSignatures, bad, "carries 1001 signature entries"},
		{"2000 in the index's list", 0, 2 * MaxSignatures, bad, "carries 2000 signature entries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := DecodeVerifyRequest(request(tc.image, tc.index, tc.entry))
			if tc.want == "" {
				if err != nil || len(req.Signatures) != tc.image || len(req.Image.Index.Signatures) != tc.index {
					t.Fatalf("DecodeVerifyRequest: %v", err)
				}
				return
			}
			var coded *CodedError
			if !errors.As(err, &coded) || coded.Code != CodeInvalidRequest || !strings.Contains(coded.Message, tc.want) {
				t.Fatalf("error %v, want INVALID_REQUEST containing %q", err, tc.want)
			}
		})
	}
}
