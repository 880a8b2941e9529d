// Package docs holds the man pages' go-md2man sources; its tests keep
// containers-policy-sigstore(1) and the command's help in agreement.
package docs

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/cli"
)

const page = "containers-policy-sigstore.1.md"

var (
	// A command line in `help`: two spaces, then the command.
	helpCommandRE = regexp.MustCompile(`(?m)^  (\S+)`)
	flagRE        = regexp.MustCompile(`--[a-z][a-z0-9.-]*[a-z0-9]`)
	// A command's section in the page: ### **name** ...
	sectionRE = regexp.MustCompile(`(?m)^### \*\*([^*]+)\*\*`)
)

func run(args ...string) (string, int) {
	var stdout, stderr bytes.Buffer
	status := cli.Run(args, strings.NewReader(""), &stdout, &stderr)
	return stdout.String() + stderr.String(), status
}

// flags are the distinct long options in text, without --help, which every
// command takes and the page describes once, under help.
func flags(text string) []string {
	var out []string
	for _, f := range flagRE.FindAllString(text, -1) {
		if f != "--help" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// helpCommands are the commands `help` lists, each with the text of its line
// (check and lint show their options there).
func helpCommands(t *testing.T) map[string]string {
	out, status := run("help")
	if status != 0 {
		t.Fatalf("help: exit %d\n%s", status, out)
	}
	cmds := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		m := helpCommandRE.FindStringSubmatch(line)
		if m == nil || m[1] == cli.Program {
			continue
		}
		cmds[m[1]] += line
	}
	if len(cmds) < 4 {
		t.Fatalf("help lists %d commands, which looks like a parsing failure:\n%s", len(cmds), out)
	}
	return cmds
}

// pageSections are the page's command sections, by command.
func pageSections(t *testing.T) map[string]string {
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	sections := map[string]string{}
	locs := sectionRE.FindAllStringSubmatchIndex(text, -1)
	for i, loc := range locs {
		end := len(text)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		// A section ends at the next heading of any level.
		body := text[loc[1]:end]
		if j := strings.Index(body, "\n#"); j >= 0 {
			body = body[:j]
		}
		sections[text[loc[2]:loc[3]]] = text[loc[0]:loc[1]] + body
	}
	return sections
}

// Every command `help` lists has a section in the page, and every section is
// a command the binary runs.
func TestManPageCoversEveryCommand(t *testing.T) {
	cmds, sections := helpCommands(t), pageSections(t)
	for cmd := range cmds {
		if _, ok := sections[cmd]; !ok {
			t.Errorf("help lists %q, which %s does not document (add a ### **%s** section)", cmd, page, cmd)
		}
	}
	for cmd := range sections {
		if _, ok := cmds[cmd]; !ok {
			t.Errorf("%s documents %q, which help does not list", page, cmd)
		}
	}
}

// For each command, the options its help shows (on its help line and in
// `COMMAND --help`) are exactly the options its section of the page describes.
// Protocol commands take none: `metadata --help` is a protocol error, and the
// page lists no option for them.
func TestManPageFlagsMatchHelp(t *testing.T) {
	cmds, sections := helpCommands(t), pageSections(t)
	for cmd, line := range cmds {
		t.Run(cmd, func(t *testing.T) {
			help := line
			if !strings.HasPrefix(cmd, "-") && cmd != "help" {
				if out, status := run(cmd, "--help"); status == 0 {
					help += "\n" + out
				}
			}
			want := flags(help)
			if cmd == "--version" {
				want = nil // the command is its own flag
			}
			got := flags(sections[cmd])
			if cmd == "--version" {
				got = slices.DeleteFunc(got, func(f string) bool { return f == "--version" })
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: help shows %v, %s documents %v", cmd, want, page, got)
			}
		})
	}
}

// The synopsis names only options that some command has.
func TestManPageSynopsisFlagsExist(t *testing.T) {
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	synopsis := text[strings.Index(text, "# SYNOPSIS"):strings.Index(text, "# DESCRIPTION")]
	out, _ := run("help")
	known := flags(out)
	for _, cmd := range []string{"check", "lint"} {
		o, _ := run(cmd, "--help")
		known = append(known, flags(o)...)
	}
	for _, f := range flags(synopsis) {
		if !slices.Contains(known, f) {
			t.Errorf("the synopsis shows %s, which no command's help knows", f)
		}
	}
}
