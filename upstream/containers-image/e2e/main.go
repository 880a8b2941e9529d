// Command upstream-e2e does what skopeo and bootc do with containers/image's
// policy, and nothing else, so that the patch series in
// upstream/containers-image can be proven in containers/image's own pull path
// with a real registry, real signatures and the real plugin:
//
//	upstream-e2e copy    [flags] docker://REF oci:DIR[:TAG]  # skopeo copy --policy FILE
//	upstream-e2e allowed [flags] docker://REF                # bootc's image proxy opening an image
//	upstream-e2e bench   [flags] -rounds N -policy A -policy B docker://REF
//
// Exit status: 0 the image was accepted (and copied); 1 the policy rejected it
// (a signature.PolicyRequirementError is in the error chain); 3 any other
// error, which also refuses the image (a policy that does not load, a plugin
// that fails, an unreachable registry); 2 usage. The error text is
// containers/image's, on standard error.
//
// It is built against the patched module by internal/upstreamcheck (see
// README.md); built against the pristine module, the same program shows that
// containers/image as released refuses a policy with a plugin requirement.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"go.podman.io/image/v5/signature"
)

const (
	exitAccepted = 0
	exitRejected = 1
	exitUsage    = 2
	exitError    = 3
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		_, _ = fmt.Fprintln(stderr, "usage: upstream-e2e copy|allowed|bench [flags] IMAGE...")
		return exitUsage
	}
	var err error
	switch args[0] {
	case "copy":
		err = runCopy(ctx, args[1:], stdout)
	case "allowed":
		err = runAllowed(ctx, args[1:], stdout)
	case "bench":
		err = runBench(ctx, args[1:], stdout)
	default:
		err = usageError(fmt.Sprintf("unknown command %q", args[0]))
	}
	return report(err, stderr)
}

// usageError is a command line that cannot be run.
type usageError string

func (e usageError) Error() string { return string(e) }

// report writes err and maps it to the exit status: a rejection by the policy
// and a failure stay apart, as containers/image keeps them apart.
func report(err error, stderr io.Writer) int {
	var usage usageError
	var rejected signature.PolicyRequirementError
	switch {
	case err == nil:
		return exitAccepted
	case errors.As(err, &usage):
		_, _ = fmt.Fprintf(stderr, "upstream-e2e: usage: %v\n", err)
		return exitUsage
	case errors.As(err, &rejected):
		_, _ = fmt.Fprintf(stderr, "upstream-e2e: rejected: %v\n", err)
		return exitRejected
	default:
		_, _ = fmt.Fprintf(stderr, "upstream-e2e: error: %v\n", err)
		return exitError
	}
}
