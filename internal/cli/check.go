package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/policy-plugins/sigstore/internal/check"
	"github.com/policy-plugins/sigstore/internal/registry"
	"github.com/policy-plugins/sigstore/protocol"
)

func init() { commands["check"] = runCheck }

// DefaultRegistriesDir is containers/image's system-wide registries.d.
const DefaultRegistriesDir = "/etc/containers/registries.d"

const checkUsage = `Usage:
  ` + Program + ` check [--policy FILE] [--registries.d DIR] [--tls-verify=BOOL] [--platform OS/ARCH[/VARIANT]|all] [--lint] [--timeout DURATION] [--output text|json] IMAGE

Evaluate a whole containers-policy.json(5) for IMAGE, a docker reference
(registry.example.com/team/app:1.4, optionally docker://...), as a podman
that runs policy plugins would: the scope containers/image chooses for the
image, built-in requirements by containers/image, plugin requirements by
their plugins. All requirements of the scope must accept. For a
multi-platform image the policy is evaluated on the instance podman pull
chooses for this machine (or --platform), as podman pull does; plugins are
sent the index and its signatures too, and a signature of the index counts
for the instances it lists. Built-in requirements see the instance alone.

Options:
  --policy FILE         the policy (default ` + DefaultPolicyPath + `)
  --registries.d DIR    registries.d directory, for use-sigstore-attachments (default ` + DefaultRegistriesDir + `)
  --tls-verify=BOOL     require HTTPS and verify certificates, for every registry
                        (default: true, except where registries.conf says insecure)
  --platform OS/ARCH[/VARIANT]
                        evaluate the instance podman pull --platform chooses; "all": every
                        instance, accepted only if each is (as skopeo copy --all)
  --lint                also validate every plugin config of the policy and report what
                        validate-config says as warnings (never changes the verdict)
  --timeout DURATION    bound the whole run, registry and plugins, every instance of
                        --platform all included (default 3m0s)
  --output text|json    report format (default text; json is described in docs/check-output.md)

Registries are reached as podman reaches them: registries.conf
($CONTAINERS_REGISTRIES_CONF, else /etc/containers/registries.conf) for
insecure, blocked, mirrors and location rewrites, and the credentials of
$REGISTRY_AUTH_FILE or containers/image's default auth.json.
Plugins are found in $` + protocol.PluginDirsEnv + ` (colon-separated), then ` + protocol.DefaultPluginDir + `.

Exit status: 0 accepted, 1 rejected, 2 usage, policy or registry error.
`

func runCheck(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", stderr)
	policyPath := fs.String("policy", DefaultPolicyPath, "")
	registriesDir := fs.String("registries.d", DefaultRegistriesDir, "")
	tlsVerify := fs.Bool("tls-verify", true, "")
	output := fs.String("output", "text", "")
	platformFlag := fs.String("platform", "", "")
	lint := fs.Bool("lint", false, "")
	timeout := fs.Duration("timeout", DefaultCheckTimeout, "")
	positional, status, ok := parseFlags(fs, checkUsage, args, stdout, stderr)
	if !ok {
		return status
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "%s check: --timeout must be positive, not %s\n", Program, *timeout)
		return ExitUsage
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "%s check: --output must be text or json, not %s\n", Program, strconv.Quote(*output))
		return ExitUsage
	}
	platform, err := check.ParsePlatform(*platformFlag)
	if err != nil {
		fmt.Fprintf(stderr, "%s check: --platform: %v\n", Program, err)
		return ExitUsage
	}
	if len(positional) != 1 {
		fmt.Fprintf(stderr, "%s check: want exactly one IMAGE, got %d arguments\n%s", Program, len(positional), checkUsage)
		return ExitUsage
	}

	regOpts := registry.Options{
		RegistriesDir: *registriesDir,
		// As podman: REGISTRY_AUTH_FILE names the auth.json, else
		// containers/image's default search.
		AuthFile: os.Getenv("REGISTRY_AUTH_FILE"),
	}
	// As podman: without --tls-verify, registries.conf's insecure decides
	// per registry; the flag, given either way, decides for all.
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "tls-verify" {
			regOpts.Insecure, regOpts.VerifyTLS = !*tlsVerify, *tlsVerify
		}
	})
	// check holds the signatures and each plugin request (up to 64 MiB):
	// collect garbage before the heap doubles.
	protocol.LimitMemory(protocol.SoftMemoryLimit)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	report, err := check.Check(ctx, positional[0], check.Options{
		PolicyPath: *policyPath, Registry: regOpts, Platform: platform, Lint: *lint,
	})
	err = timedOut(ctx, *timeout, report, err)
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

// DefaultCheckTimeout is check's --timeout, cosign verify's default.
const DefaultCheckTimeout = 3 * time.Minute

// timedOut makes a run that reached its deadline without an acceptance an
// error (exit 2), never a rejection: what did not finish says nothing about
// the image. The message names what was being read (the registry error) or
// the requirements that could not finish.
func timedOut(ctx context.Context, timeout time.Duration, report *check.Report, err error) error {
	if ctx.Err() == nil || (err == nil && report.Accepted) {
		return err
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return &check.SetupError{Err: fmt.Errorf("--timeout %s reached: %w", timeout, err)}
		}
		return err
	}
	var unfinished []string
	for _, im := range report.Images {
		for i, r := range im.Requirements {
			if r.Outcome != check.OutcomeAccepted {
				unfinished = append(unfinished, fmt.Sprintf("requirement %d (%s) on %s: %s", i, r.Type, im.Digest, r.Reason))
			}
		}
	}
	return &check.SetupError{Err: fmt.Errorf("--timeout %s reached: %s", timeout, strings.Join(unfinished, "; "))}
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
