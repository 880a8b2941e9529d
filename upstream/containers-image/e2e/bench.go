package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
)

// policyList is a repeatable -policy flag.
type policyList []string

func (p *policyList) String() string     { return strings.Join(*p, ",") }
func (p *policyList) Set(v string) error { *p = append(*p, v); return nil }

// benchResult is what bench writes: for each round, for each policy in flag
// order, how long its policy load (NewPolicyFromFile + NewPolicyContext; no
// plugin runs there) and its copy.Image took, in nanoseconds, and the CPU
// time copy.Image used, this process's and its children's (the plugin's)
// together: on a loaded machine the wall time grows with the load, the CPU
// time much less.
type benchResult struct {
	Policies []string  `json:"policies"`
	Load     [][]int64 `json:"loadNanos"`
	Copy     [][]int64 `json:"copyNanos"`
	CopyCPU  [][]int64 `json:"copyCPUNanos"`
}

// cpuTime is the user and system time this process and its waited-for
// children have used.
func cpuTime() (time.Duration, error) {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err != nil {
			return 0, err
		}
		total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return total, nil
}

// runBench copies one image N rounds with each policy into a fresh OCI layout,
// in one process, the policies alternating (the first policy leads on even
// rounds, the last on odd ones), so that caches, connection reuse and drift
// fall on both alike and the difference is the requirement's cost.
func runBench(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var cfg hostConfig
	cfg.register(fs)
	var policies policyList
	fs.Var(&policies, "policy", "policy.json `FILE` (repeat)")
	rounds := fs.Int("rounds", 15, "rounds")
	warmup := fs.Int("warmup", 2, "rounds run first and not reported (connections, page cache)")
	cmd, err := cfg.open(fs, args, 1)
	if err != nil {
		return err
	}
	defer cmd.close()
	if len(policies) == 0 || *rounds < 1 || *warmup < 0 {
		return usageError("bench wants -policy at least once, -rounds >= 1 and -warmup >= 0")
	}
	sys, src := cmd.sys, cmd.images[0]
	work, err := os.MkdirTemp("", "upstream-e2e-bench-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(work) }()

	res := benchResult{Policies: policies}
	for r := range *warmup + *rounds {
		load := make([]int64, len(policies))
		cp := make([]int64, len(policies))
		cpu := make([]int64, len(policies))
		for k := range policies {
			i := k
			if r%2 == 1 {
				i = len(policies) - 1 - k
			}
			start := time.Now()
			pc, err := policyContext(policies[i])
			if err != nil {
				return err
			}
			load[i] = int64(time.Since(start))
			dest, err := parseImageName("oci:" + filepath.Join(work, fmt.Sprintf("round%d-policy%d", r, i)))
			if err != nil {
				_ = pc.Destroy()
				return err
			}
			cpuStart, err := cpuTime()
			if err != nil {
				_ = pc.Destroy()
				return err
			}
			start = time.Now()
			_, err = copyImage(ctx, pc, sys, src, dest, true)
			cp[i] = int64(time.Since(start))
			_ = pc.Destroy()
			if err != nil {
				return err
			}
			cpuEnd, err := cpuTime()
			if err != nil {
				return err
			}
			cpu[i] = int64(cpuEnd - cpuStart)
		}
		if r >= *warmup {
			res.Load = append(res.Load, load)
			res.Copy = append(res.Copy, cp)
			res.CopyCPU = append(res.CopyCPU, cpu)
		}
	}
	return json.NewEncoder(stdout).Encode(res)
}

// copyImage is skopeo copy's call of copy.Image.
func copyImage(ctx context.Context, pc *signature.PolicyContext, sys *types.SystemContext, src, dest types.ImageReference, removeSignatures bool) ([]byte, error) {
	return copy.Image(ctx, pc, dest, src, &copy.Options{
		SourceCtx:        sys,
		DestinationCtx:   sys,
		RemoveSignatures: removeSignatures,
	})
}
