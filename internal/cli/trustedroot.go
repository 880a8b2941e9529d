package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/tuf"

	"github.com/policy-plugins/sigstore/internal/trustedroot"
)

func init() { commands["trusted-root"] = runTrustedRoot }

const trustedRootUsage = `Usage:
  ` + Program + ` trusted-root update [--mirror URL] [--root FILE] [--cache-dir DIR] [--output FILE] [--timeout DURATION]
  ` + Program + ` trusted-root show [FILE]

update refreshes a Sigstore TUF repository (every TUF check: signatures and
thresholds, root rotation, rollback, freeze, mix-and-match, target length and
hashes) and installs its trusted_root.json target atomically, once it parses
as a trusted root with a Fulcio CA and a transparency log and loads as the
plugin loads it. It prints one line per CA, log or authority added, removed
or whose validity window changed, then whether the file changed.

Options of update:
  --mirror URL          TUF repository (default ` + trustedroot.DefaultMirror + `)
  --root FILE           TUF root.json that bootstraps trust in the mirror
                        (default: the public-good root built into the program)
  --cache-dir DIR       TUF metadata cache and lock (default ` + trustedroot.DefaultCacheDir + `)
  --output FILE         trusted root to replace (default ` + trustedroot.DefaultOutput + `);
                        FILE` + trustedroot.StatusSuffix + ` records the TUF timestamp that vouched for it;
                        FILE must be a regular file or absent (not a link, FIFO
                        or device), in a directory only its owner can write
  --timeout DURATION    bound on the whole run: the requests to the mirror and
                        waiting for another update to finish (default ` + "1m" + `)

show lists FILE's (default ` + trustedroot.DefaultOutput + `) Fulcio CAs,
transparency logs, CT logs and timestamp authorities with their validity
windows, and warns about any that ended or end within 30 days, and about a
file not updated since its TUF timestamp expired.

Exit status: 0 the file is current (update) or was shown; 1 update refused by
TUF verification or the trusted root checks; 2 usage error, network or file
error. The previous file is left byte for byte as it was unless update exits 0.
`

func runTrustedRoot(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "%s trusted-root: want update or show\n%s", Program, trustedRootUsage)
		return ExitUsage
	}
	switch args[0] {
	case "update":
		return runTrustedRootUpdate(args[1:], stdout, stderr)
	case "show":
		return runTrustedRootShow(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, trustedRootUsage)
		return ExitOK
	}
	fmt.Fprintf(stderr, "%s trusted-root: unknown subcommand %q: want update or show\n%s", Program, args[0], trustedRootUsage)
	return ExitUsage
}

// maxTUFRootBytes bounds --root: a TUF root is a few KiB.
const maxTUFRootBytes = 1 << 20

func runTrustedRootUpdate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("trusted-root update", stderr)
	opts := trustedroot.Options{}
	fs.StringVar(&opts.Mirror, "mirror", trustedroot.DefaultMirror, "")
	rootFile := fs.String("root", "", "")
	fs.StringVar(&opts.CacheDir, "cache-dir", trustedroot.DefaultCacheDir, "")
	fs.StringVar(&opts.Output, "output", trustedroot.DefaultOutput, "")
	fs.DurationVar(&opts.Timeout, "timeout", trustedroot.DefaultTimeout, "")
	positional, status, ok := parseFlags(fs, trustedRootUsage, args, stdout, stderr)
	if !ok {
		return status
	}
	const name = Program + " trusted-root update"
	switch {
	case len(positional) != 0:
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n%s", name, positional[0], trustedRootUsage)
		return ExitUsage
	case opts.Timeout <= 0:
		fmt.Fprintf(stderr, "%s: --timeout must be positive\n", name)
		return ExitUsage
	case opts.Mirror == "" || opts.CacheDir == "" || opts.Output == "":
		fmt.Fprintf(stderr, "%s: --mirror, --cache-dir and --output must not be empty\n", name)
		return ExitUsage
	}
	if *rootFile == "" {
		opts.Root = tuf.DefaultRoot()
	} else {
		data, err := readLimited(*rootFile, maxTUFRootBytes)
		if err != nil {
			fmt.Fprintf(stderr, "%s: --root: %v\n", name, err)
			return ExitUsage
		}
		opts.Root = data
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()
	res, err := trustedroot.Update(ctx, opts)
	if res != nil {
		for _, line := range res.Changes {
			fmt.Fprintln(stdout, line)
		}
	}
	var refused *trustedroot.RefusedError
	switch {
	case errors.As(err, &refused):
		fmt.Fprintf(stderr, "%s: %v\n%s: %s left unchanged\n", name, oneLine(err), name, opts.Output)
		return ExitRejected
	case err != nil && res != nil && res.Changed:
		// Only the status file failed: the trusted root itself was replaced.
		fmt.Fprintf(stderr, "%s: %s updated, but %v\n", name, opts.Output, oneLine(err))
		return ExitUsage
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\n%s: %s left unchanged\n", name, oneLine(err), name, opts.Output)
		return ExitUsage
	}
	state := "unchanged"
	if res.Changed {
		state = "updated"
	}
	fmt.Fprintf(stdout, "%s is current (%s) from %s: TUF timestamp version %d, expires %s\n",
		opts.Output, state, opts.Mirror, res.TimestampVersion, res.TimestampExpires.UTC().Format(time.RFC3339))
	return ExitOK
}

func runTrustedRootShow(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("trusted-root show", stderr)
	positional, status, ok := parseFlags(fs, trustedRootUsage, args, stdout, stderr)
	if !ok {
		return status
	}
	const name = Program + " trusted-root show"
	path := trustedroot.DefaultOutput
	switch len(positional) {
	case 0:
	case 1:
		path = positional[0]
	default:
		fmt.Fprintf(stderr, "%s: want at most one FILE, got %d\n%s", name, len(positional), trustedRootUsage)
		return ExitUsage
	}
	data, err := readLimited(path, 16<<20)
	if err == nil {
		err = trustedroot.Show(stdout, path, data, time.Now())
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitUsage
	}
	return ExitOK
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}

// oneLine keeps an error to one journal line.
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }
