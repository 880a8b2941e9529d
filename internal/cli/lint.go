package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/policy-plugins/sigstore/internal/lint"
	"github.com/policy-plugins/sigstore/protocol"
)

func init() { commands["lint"] = runLint }

// DefaultPolicyPath is containers/image's system-wide policy.
const DefaultPolicyPath = "/etc/containers/policy.json"

const lintUsage = `Usage:
  ` + Program + ` lint [--policy FILE]

Check a containers-policy.json(5) the way a plugin-aware host loads it: strict
JSON, built-in requirements through containers/image's parser, and every
plugin requirement's config through the plugin's validate-config. Prints
errors and warnings with their JSON paths.

Options:
  --policy FILE   the policy to check (default ` + DefaultPolicyPath + `)

Plugins are found in $` + protocol.PluginDirsEnv + ` (colon-separated), then ` + protocol.DefaultPluginDir + `.

Exit status: 0 no errors (warnings allowed), 1 errors, 2 usage error or unreadable file.
`

func runLint(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("lint", stderr)
	policyPath := fs.String("policy", DefaultPolicyPath, "")
	positional, status, ok := parseFlags(fs, lintUsage, args, stdout, stderr)
	if !ok {
		return status
	}
	if len(positional) != 0 {
		fmt.Fprintf(stderr, "%s lint: unexpected argument %q\n%s", Program, positional[0], lintUsage)
		return ExitUsage
	}
	data, err := os.ReadFile(*policyPath)
	if err != nil {
		fmt.Fprintf(stderr, "%s lint: %v\n", Program, err)
		return ExitUsage
	}
	findings := lint.Lint(context.Background(), data, protocol.NewHost())
	errors, warnings := 0, 0
	for _, f := range findings {
		_, _ = fmt.Fprintln(stdout, f)
		if f.Severity == lint.Error {
			errors++
		} else {
			warnings++
		}
	}
	fmt.Fprintf(stdout, "%s: %s, %s\n", *policyPath, plural(errors, "error"), plural(warnings, "warning"))
	if errors > 0 {
		return ExitRejected
	}
	return ExitOK
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
