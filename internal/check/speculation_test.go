package check

import (
	"errors"
	"testing"

	"github.com/policy-plugins/sigstore/protocol"
)

// A speculative verify (every signature, before metadata) stands only when
// its request is exactly the one metadata asks for.
func TestSpeculativeVerifyStandsOnlyForTheRequestMetadataAsksFor(t *testing.T) {
	legacy := FoundSignature{Format: protocol.FormatSigstoreJSON}
	bundle := FoundSignature{Format: protocol.FormatSigstoreBundle}
	skippedBundle := FoundSignature{Format: protocol.FormatSigstoreBundle, Skipped: "not sent to plugins: bundle: duplicate key"}
	takes := func(formats ...string) pluginInfo {
		return pluginInfo{md: &protocol.Metadata{SignatureFormats: formats}}
	}
	both := takes(protocol.FormatSigstoreJSON, protocol.FormatSigstoreBundle)
	want := Requirement{Path: "default[0]", Outcome: OutcomeAccepted}

	tests := []struct {
		name      string
		spec, now []FoundSignature // found before metadata (every format), found in the formats the scope's plugins take
		info      pluginInfo
		stands    bool
	}{
		{"the plugin takes every format found", []FoundSignature{legacy, bundle}, []FoundSignature{legacy, bundle}, both, true},
		{"no signatures at all", nil, nil, takes(protocol.FormatSigstoreJSON), true},
		{"only formats it takes were found", []FoundSignature{legacy}, []FoundSignature{legacy}, takes(protocol.FormatSigstoreJSON), true},
		{"a bundle found that no plugin of the scope takes", []FoundSignature{legacy, bundle}, []FoundSignature{legacy}, takes(protocol.FormatSigstoreJSON), false},
		{"a bundle another plugin of the scope takes, this one not", []FoundSignature{legacy, bundle}, []FoundSignature{legacy, bundle}, takes(protocol.FormatSigstoreJSON), false},
		{"a skipped bundle is sent to nobody either way", []FoundSignature{legacy, skippedBundle}, []FoundSignature{legacy, skippedBundle}, takes(protocol.FormatSigstoreJSON), true},
		{"metadata failed", []FoundSignature{legacy}, []FoundSignature{legacy}, pluginInfo{err: errors.New("crashed")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &speculation{sigs: &collected{found: tt.spec}, results: []Requirement{want}}
			got, ok := s.result(0, &collected{found: tt.now}, tt.info)
			if ok != tt.stands || (ok && got.Path != want.Path) {
				t.Errorf("result: %+v, %v; want it to stand: %v", got, ok, tt.stands)
			}
		})
	}
	if _, ok := (*speculation)(nil).result(0, &collected{}, both); ok {
		t.Error("no speculation stands")
	}
}
