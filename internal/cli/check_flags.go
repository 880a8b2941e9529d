package cli

import (
	"flag"
	"fmt"
	"io"
)

// newFlagSet makes a flag set for a command for people. Go's flag package
// accepts --name and --name=value, the GNU spelling podman and skopeo use.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // parseFlags prints the usage itself
	return fs
}

// parseFlags parses args, allowing flags after positional arguments as podman
// does (check IMAGE --output json). -h or --help prints usage on stdout and
// is exit 0; a bad flag is reported with the usage on stderr and is exit 2.
func parseFlags(fs *flag.FlagSet, usage string, args []string, stdout, stderr io.Writer) (positional []string, status int, ok bool) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			_, _ = fmt.Fprint(stdout, usage)
			return nil, ExitOK, false
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			_, _ = fmt.Fprint(stderr, usage)
			return nil, ExitUsage, false
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), 0, true // everything after -- is an argument
		}
		if len(rest) == 0 {
			return positional, 0, true
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
