// Command upstream-e2e is the benchmark of docs/upstream.md ("Speed"): it
// times what `skopeo copy --policy FILE` does with containers/image's policy
// (NewPolicyFromFile, NewPolicyContext, copy.Image), built against the patch
// series, under two policies alternately, in one process:
//
//	upstream-e2e bench [flags] -rounds N -policy A -policy B docker://REF
//
// Exit status: 0 every copy succeeded (the times are on standard output, as
// JSON); 1 an error (containers/image's text, on standard error), including a
// policy that refused the image; 2 usage.
//
// Its verdicts are proven elsewhere, through the real clients built with the
// series (internal/realclients); this program exists because a real client
// cannot time policy loading and copy.Image apart within one process.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		_, _ = fmt.Fprintln(stderr, "usage: upstream-e2e bench [flags] -rounds N -policy A -policy B IMAGE")
		return exitUsage
	}
	var err error
	switch args[0] {
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

// report writes err and maps it to the exit status.
func report(err error, stderr io.Writer) int {
	var usage usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage):
		_, _ = fmt.Fprintf(stderr, "upstream-e2e: usage: %v\n", err)
		return exitUsage
	default:
		_, _ = fmt.Fprintf(stderr, "upstream-e2e: error: %v\n", err)
		return exitError
	}
}
