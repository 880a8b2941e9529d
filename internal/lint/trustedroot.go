package lint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/policy-plugins/sigstore/internal/policy"
	"github.com/policy-plugins/sigstore/internal/trustedroot"
	"github.com/policy-plugins/sigstore/plugin"
)

// trustedRootWarnings flags the sigstore plugin's trusted roots that verify
// would find missing, or that nobody has refreshed: the file's status (written
// by trusted-root update beside it) names the TUF timestamp that last vouched
// for it, and once that has expired the repository may have retired a log or
// added a CA the file does not know. Files not installed by update have no
// status and get no staleness warning.
func trustedRootWarnings(p *policy.Policy, now time.Time) []policy.Problem {
	var ws []policy.Problem
	for _, s := range p.Scopes() {
		for _, r := range s.Requirements {
			if !r.IsPlugin() || r.Plugin != plugin.Name {
				continue
			}
			for _, tr := range trustedRootPaths(r) {
				if msg := trustedRootWarning(tr.file, now); msg != "" {
					ws = append(ws, policy.Problem{Path: tr.path, Message: msg})
				}
			}
		}
	}
	return ws
}

type trustedRootRef struct{ path, file string }

// trustedRootPaths reads the trusted root files a sigstore config names. A
// config that does not parse is validate-config's to report.
func trustedRootPaths(r policy.Requirement) []trustedRootRef {
	var cfg struct {
		TrustedRootPath  string   `json:"trustedRootPath"`
		TrustedRootPaths []string `json:"trustedRootPaths"`
	}
	if json.Unmarshal(r.Config, &cfg) != nil {
		return nil
	}
	var refs []trustedRootRef
	if cfg.TrustedRootPath != "" {
		refs = append(refs, trustedRootRef{r.Path + ".config.trustedRootPath", cfg.TrustedRootPath})
	}
	for i, f := range cfg.TrustedRootPaths {
		if f != "" {
			refs = append(refs, trustedRootRef{fmt.Sprintf("%s.config.trustedRootPaths[%d]", r.Path, i), f})
		}
	}
	return refs
}

func trustedRootWarning(file string, now time.Time) string {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("%s does not exist: install it with 'containers-policy-sigstore trusted-root update --output %s'", file, file)
	}
	if err != nil {
		return "" // validate-config reports what it cannot read
	}
	status, err := trustedroot.ReadStatus(file)
	if err != nil {
		return fmt.Sprintf("%s: unreadable update status: %v", file, err)
	}
	if status == nil || !status.Describes(data) {
		return ""
	}
	if msg := trustedroot.StaleMessage(status, now); msg != "" {
		return file + ": " + msg
	}
	return ""
}
