// Command interleave times whole processes on a machine others share: each
// command runs once per round, the order rotating, so that a load that moves
// during the run moves all of them alike (hyperfine runs one command's runs back
// to back). Per command it prints the median wall time and the median CPU time
// (user + system of the process, from wait4), which a busy machine inflates far
// less than the wall time.
//
//	interleave -rounds N -stdin FILE -- CMD ARGS... -- CMD ARGS... ...
//
// Each command's standard input is FILE (opened again per run), its output is
// discarded; a command that exits non-zero stops the run, with its stderr.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

func main() {
	rounds := flag.Int("rounds", 100, "runs of each command")
	stdin := flag.String("stdin", "", "file each command reads on standard input")
	flag.Parse()
	var cmds [][]string
	for _, a := range flag.Args() {
		if a == "--" || len(cmds) == 0 {
			cmds = append(cmds, nil)
			if a == "--" {
				continue
			}
		}
		cmds[len(cmds)-1] = append(cmds[len(cmds)-1], a)
	}
	cmds = slices.DeleteFunc(cmds, func(c []string) bool { return len(c) == 0 })
	if len(cmds) == 0 || *rounds < 1 {
		fmt.Fprintln(os.Stderr, "usage: interleave -rounds N [-stdin FILE] -- CMD ARGS... [-- CMD ARGS...]...")
		os.Exit(2)
	}
	wall := make([][]time.Duration, len(cmds))
	cpu := make([][]time.Duration, len(cmds))
	for r := range *rounds {
		for k := range cmds {
			i := (k + r) % len(cmds)
			w, c, err := run(cmds[i], *stdin)
			if err != nil {
				fmt.Fprintf(os.Stderr, "interleave: %s: %v\n", strings.Join(cmds[i], " "), err)
				os.Exit(1)
			}
			wall[i], cpu[i] = append(wall[i], w), append(cpu[i], c)
		}
	}
	for i, c := range cmds {
		fmt.Printf("  median %6.2f ms wall, %6.2f ms CPU (user+sys)  %s\n", ms(median(wall[i])), ms(median(cpu[i])), strings.Join(c, " "))
	}
	for i := 1; i < len(cmds); i++ {
		fmt.Printf("  %s - %s: %+.2f ms wall, %+.2f ms CPU\n", cmds[i][0], cmds[0][0],
			ms(median(wall[i])-median(wall[0])), ms(median(cpu[i])-median(cpu[0])))
	}
}

func run(argv []string, stdin string) (wall, cpu time.Duration, err error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			return 0, 0, err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start)
	if err != nil {
		err = fmt.Errorf("%w\n%s", err, stderr.Bytes())
	}
	if cmd.ProcessState != nil {
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	return wall, cpu, err
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
