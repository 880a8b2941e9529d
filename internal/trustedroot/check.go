package trustedroot

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/policy-plugins/sigstore/plugin"
)

// ParseRoot parses a trusted_root.json with sigstore-go and refuses one that
// would trust no signature: without a Fulcio CA no certificate chains, and
// without a transparency log no signing time is verified.
func ParseRoot(data []byte) (*root.TrustedRoot, error) {
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("not a Sigstore trusted root: %w", err)
	}
	var missing []string
	if len(tr.FulcioCertificateAuthorities()) == 0 {
		missing = append(missing, "no Fulcio certificate authority")
	}
	if len(tr.RekorLogs()) == 0 {
		missing = append(missing, "no transparency log")
	}
	if missing != nil {
		return nil, fmt.Errorf("the trusted root has %s: every keyless signature would be rejected", strings.Join(missing, " and "))
	}
	return tr, nil
}

// loadsInPlugin loads path the way a policy's trustedRootPath is loaded: through
// the plugin's own config parser, so that a file update accepts is one verify
// can use.
func loadsInPlugin(path string) error {
	// The plugin's parser wants an identity; which one does not matter for
	// loading trust material.
	probe := map[string]string{"issuer": "https://trusted-root.invalid", "subjectEmail": "probe@trusted-root.invalid"}
	cfg, err := json.Marshal(map[string]any{"trustedRootPath": path, "identities": []any{probe}})
	if err != nil {
		return err
	}
	_, errs, _ := plugin.ParseConfig(cfg)
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Message
	}
	return errors.New("the plugin cannot load it: " + strings.Join(msgs, "; "))
}
