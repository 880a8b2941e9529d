package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/policy-plugins/sigstore/internal/check"
	"github.com/policy-plugins/sigstore/internal/registry"
	"github.com/policy-plugins/sigstore/protocol"
)

func init() { commands["check"] = runCheck }

// DefaultRegistriesDir is containers/image's system-wide registries.d.
const DefaultRegistriesDir = "/etc/containers/registries.d"

const checkUsage = `Usage:
  ` + Program + ` check [--policy FILE] [--registries.d DIR] [--tls-verify=BOOL] [--output text|json] IMAGE

Evaluate a whole containers-policy.json(5) for IMAGE, a docker reference
(registry.example.com/team/app:1.4, optionally docker://...), as a podman
that runs policy plugins would: the scope containers/image chooses for the
image, built-in requirements by containers/image, plugin requirements by
their plugins. All requirements of the scope must accept. For a
multi-platform image the policy is evaluated on the index, as podman pull does.

Options:
  --policy FILE         the policy (default ` + DefaultPolicyPath + `)
  --registries.d DIR    registries.d directory, for use-sigstore-attachments (default ` + DefaultRegistriesDir + `)
  --tls-verify=BOOL     require HTTPS and verify certificates (default true)
  --output text|json    report format (default text; json is described in docs/check-output.md)

Plugins are found in $` + protocol.PluginDirsEnv + ` (colon-separated), then ` + protocol.DefaultPluginDir + `.

Exit status: 0 accepted, 1 rejected, 2 usage, policy or registry error.
`

func runCheck(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", stderr)
	policyPath := fs.String("policy", DefaultPolicyPath, "")
	registriesDir := fs.String("registries.d", DefaultRegistriesDir, "")
	tlsVerify := fs.Bool("tls-verify", true, "")
	output := fs.String("output", "text", "")
	positional, status, ok := parseFlags(fs, checkUsage, args, stdout, stderr)
	if !ok {
		return status
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "%s check: --output must be text or json, not %s\n", Program, strconv.Quote(*output))
		return ExitUsage
	}
	if len(positional) != 1 {
		fmt.Fprintf(stderr, "%s check: want exactly one IMAGE, got %d arguments\n%s", Program, len(positional), checkUsage)
		return ExitUsage
	}

	report, err := check.Check(context.Background(), positional[0], check.Options{
		PolicyPath: *policyPath,
		Registry:   registry.Options{Insecure: !*tlsVerify, RegistriesDir: *registriesDir},
	})
	if err != nil {
		var setup *check.SetupError
		if !errors.As(err, &setup) {
			err = fmt.Errorf("internal error: %w", err)
		}
		fmt.Fprintf(stderr, "%s check: %v\n", Program, err)
		if *output == "json" {
			writeJSON(stdout, map[string]string{"verdict": "error", "error": err.Error()})
		}
		return ExitUsage
	}
	if *output == "json" {
		writeJSON(stdout, report)
	} else {
		_ = report.WriteText(stdout) // nothing to do about a closed stdout
	}
	if report.Accepted {
		return ExitOK
	}
	return ExitRejected
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
