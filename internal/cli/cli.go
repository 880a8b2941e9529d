// Package cli dispatches the command line: the plugin protocol commands
// (metadata, validate-config, verify) and the commands for people.
package cli

import (
	"fmt"
	"io"

	"github.com/policy-plugins/sigstore/plugin"
	"github.com/policy-plugins/sigstore/protocol"
)

// Program is the installed command name.
const Program = "containers-policy-sigstore"

// Exit statuses of the commands for people (the protocol commands use 0 and 1 as
// the protocol says).
const (
	ExitOK       = 0
	ExitRejected = 1
	ExitUsage    = 2
)

// Run runs one command line and returns the exit status.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	switch args[0] {
	case protocol.CommandMetadata, protocol.CommandValidateConfig, protocol.CommandVerify:
		return protocol.Serve(plugin.Handler{}, args, stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return ExitOK
	case "--version", "version":
		fmt.Fprintf(stdout, "%s version %s (protocol %s)\n", Program, plugin.Version, protocol.APIVersion)
		return ExitOK
	}
	if cmd, ok := commands[args[0]]; ok {
		return cmd(args[1:], stdin, stdout, stderr)
	}
	// A host that runs an unknown command gets the protocol's answer; a person
	// who mistyped gets a hint as well.
	fmt.Fprintf(stderr, "%s: unknown command %q; run '%s help'\n", Program, args[0], Program)
	return protocol.Serve(plugin.Handler{}, args, stdin, stdout, stderr)
}

// commands are the commands for people beyond the protocol (check, lint,
// trusted-root), each registered by its own file.
var commands = map[string]func(args []string, stdin io.Reader, stdout, stderr io.Writer) int{}

const usage = `Usage:
  ` + Program + ` COMMAND [ARGS]

Plugin protocol commands (containers-policy-plugin(5)), JSON on stdin and stdout:
  metadata           describe the plugin
  validate-config    validate a requirement's config (ValidateConfigRequest)
  verify             verify an image's signatures (VerifyRequest)

Commands for people and CI:
  check [--policy FILE] [--registries.d DIR] [--tls-verify=BOOL] [--platform OS/ARCH[/VARIANT]|all] [--lint] [--output text|json] IMAGE
                     evaluate a whole policy.json for an image in its registry, as podman pull does
  lint [--policy FILE]
                     check a policy.json and every plugin config in it
  trusted-root update [--mirror URL] [--root FILE] [--cache-dir DIR] [--output FILE] [--timeout DURATION]
                     install the current trusted_root.json over TUF
  trusted-root show [FILE]
                     list a trusted root's CAs, logs and authorities, and what expires
  help               show this help
  --version          show the version

Run '` + Program + ` COMMAND --help' for a command's options.

The plugin's config is described in containers-policy-sigstore(5).
`
