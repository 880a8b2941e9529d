package plugin

import (
	"testing"

	"github.com/policy-plugins/sigstore/protocol"
)

func publicGoodRequest(t testing.TB, cfg map[string]any) *protocol.VerifyRequest {
	return &protocol.VerifyRequest{
		APIVersion: protocol.APIVersion,
		Kind:       protocol.KindVerifyRequest,
		Config:     configJSON(t, cfg),
		Image: protocol.Image{
			Transport:       "docker",
			DockerReference: strPtr("192.168.64.2:5000/cosign-signed/fulcio-rekor-1:latest"),
			Manifest:        readFile(t, publicGood+"/manifest.json"),
		},
		Signatures: []protocol.Signature{readDirSignature(t, publicGood+"/signature-1")},
	}
}

func TestPublicGoodSignature(t *testing.T) {
	trustedRoot := map[string]any{"trustedRootPath": abs(t, publicGood+"/trusted_root.json")}
	containersImageStyle := map[string]any{
		"fulcio":             map[string]any{"caPath": abs(t, publicGood+"/fulcio_v1.crt.pem")},
		"rekorPublicKeyPath": abs(t, publicGood+"/rekor.pub"),
	}
	with := func(base map[string]any, extra map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range extra {
			if k == "fulcio" {
				merged := map[string]any{}
				if f, ok := out["fulcio"].(map[string]any); ok {
					for fk, fv := range f {
						merged[fk] = fv
					}
				}
				for fk, fv := range v.(map[string]any) {
					merged[fk] = fv
				}
				v = merged
			}
			out[k] = v
		}
		return out
	}
	mitr := map[string]any{
		"identities":     []any{map[string]any{"issuer": "https://github.com/login/oauth", "subjectEmail": "mitr@redhat.com"}},
		"signedIdentity": map[string]any{"type": "matchRepository"},
	}
	for _, tc := range []struct {
		name   string
		cfg    map[string]any
		accept bool
	}{
		{"accepts mitr@redhat.com with the trusted root (SCT checked)", with(trustedRoot, mitr), true},
		{"accepts mitr@redhat.com with containers/image style trust", with(containersImageStyle, mitr), true},
		{"accepts the fulcio shorthand", with(containersImageStyle, map[string]any{
			"fulcio":         map[string]any{"oidcIssuer": "https://github.com/login/oauth", "subjectEmail": "mitr@redhat.com"},
			"signedIdentity": map[string]any{"type": "matchRepository"},
		}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := Evaluate(publicGoodRequest(t, tc.cfg))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %s", resp.Verdict, resp.Reason)
			if got := resp.Verdict == protocol.VerdictAccept; got != tc.accept {
				t.Fatalf("verdict %s, want accept=%v: %s", resp.Verdict, tc.accept, resp.Reason)
			}
		})
	}
}
