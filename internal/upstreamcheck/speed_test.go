package upstreamcheck

import (
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/e2e"
)

// TestBenchRuns keeps the benchmark honest between the runs of
// hack/upstream-bench.sh: the program builds against the tree the series
// makes, copies the image under both policies (so neither refuses it), and
// reports one time per policy per round, each a real one.
func TestBenchRuns(t *testing.T) {
	b := newBench(t)
	res := b.run(t, 2)
	for name, series := range map[string][][]int64{"loadNanos": res.Load, "copyNanos": res.Copy, "copyCPUNanos": res.CopyCPU} {
		if len(series) != 2 {
			t.Errorf("%s: %d rounds, want 2", name, len(series))
		}
		for i, round := range series {
			if len(round) != 2 {
				t.Errorf("%s round %d: %v, want one time per policy", name, i, round)
				continue
			}
			// Policy load may take well under a clock tick; a copy cannot.
			if name != "loadNanos" && (round[0] <= 0 || round[1] <= 0) {
				t.Errorf("%s round %d: %v, want positive times", name, i, round)
			}
		}
	}
}

// benchRounds is how many paired rounds BenchmarkPluginRequirementCost
// measures (hack/upstream-bench.sh sets it).
const benchRoundsEnv = "UPSTREAM_BENCH_ROUNDS"

// BenchmarkPluginRequirementCost is the paired measurement of docs/upstream.md
// ("Speed"): one process copies a small key-signed image from the loopback
// registry into a fresh OCI layout with copy.Image, alternately under
// sigstoreSigned and under the plugin requirement checking the same signature
// with the same key, N rounds; reported are the medians and the median of the
// per-round differences. Run it with hack/upstream-bench.sh (-benchtime 1x).
func BenchmarkPluginRequirementCost(b *testing.B) {
	rounds := 31
	if v := os.Getenv(benchRoundsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 15 {
			b.Fatalf("$%s=%q: want a number >= 15", benchRoundsEnv, v)
		}
		rounds = n
	}
	setup := newBench(b)
	for b.Loop() {
		res := setup.run(b, rounds)
		st := pairedStats(res.Copy)
		ld := pairedStats(res.Load)
		cpu := pairedStats(res.CopyCPU)
		b.ReportMetric(ms(st.a), "ms-copy-sigstoreSigned")
		b.ReportMetric(ms(st.b), "ms-copy-plugin")
		b.ReportMetric(ms(st.diff), "ms-extra-per-image")
		b.ReportMetric(ms(ld.diff), "ms-extra-policy-load")
		b.ReportMetric(ms(cpu.diff), "ms-extra-cpu-per-image")
		b.Logf("%d paired rounds: copy.Image median %.2f ms with sigstoreSigned, %.2f ms with the plugin; "+
			"paired difference median %.2f ms (quartiles %.2f, %.2f); policy load +%.2f ms (no plugin runs); "+
			"CPU time (process and plugin) median %.2f / %.2f ms, paired difference median %.2f ms (quartiles %.2f, %.2f)",
			len(res.Copy), ms(st.a), ms(st.b), ms(st.diff), ms(st.q1), ms(st.q3), ms(ld.diff),
			ms(cpu.a), ms(cpu.b), ms(cpu.diff), ms(cpu.q1), ms(cpu.q3))
	}
}

// bench is the benchmark's setting: a small key-signed image (legacy cosign
// layout) on the loopback registry, and two policies checking its signature
// with the same key, sigstoreSigned and the plugin requirement.
type bench struct {
	s               *setting
	img             e2e.Image
	builtin, plugin string
	prog            program
}

func newBench(tb testing.TB) *bench {
	tb.Helper()
	s := newSetting(tb)
	key := e2e.GenerateKeyPair(tb)
	img := e2e.PushImage(tb, s.addr+"/team/bench:1")
	e2e.SignLegacy(tb, key, img.DigestRef())
	return &bench{
		s:       s,
		img:     img,
		builtin: s.policy(tb, e2e.SigstoreSigned(key)),
		plugin:  s.policy(tb, e2e.PluginRequirement("sigstore", e2e.KeyConfig(key, "matchRepository"))),
		prog:    patched(tb),
	}
}

// benchResult is what upstream-e2e bench prints (its benchResult).
type benchResult struct {
	Load    [][]int64 `json:"loadNanos"`
	Copy    [][]int64 `json:"copyNanos"`
	CopyCPU [][]int64 `json:"copyCPUNanos"`
}

// run runs upstream-e2e bench for rounds paired rounds.
func (b *bench) run(tb testing.TB, rounds int) benchResult {
	tb.Helper()
	args := append([]string{"bench", "-rounds", strconv.Itoa(rounds), "-policy", b.builtin, "-policy", b.plugin, "-registries.d", b.s.registriesD}, b.s.config...)
	r := b.s.run(tb, b.prog, append(args, "docker://"+b.img.Ref)...)
	if r.status != exitOK {
		tb.Fatalf("bench: exit %d: %s", r.status, r.stderr)
	}
	var res benchResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		tb.Fatalf("bench output: %v\n%s", err, r.stdout)
	}
	return res
}

// paired holds medians of two alternated series and of their per-round
// differences (b - a), with the differences' quartiles.
type paired struct{ a, b, diff, q1, q3 time.Duration }

func pairedStats(rounds [][]int64) paired {
	var as, bs, ds []time.Duration
	for _, r := range rounds {
		as = append(as, time.Duration(r[0]))
		bs = append(bs, time.Duration(r[1]))
		ds = append(ds, time.Duration(r[1]-r[0]))
	}
	return paired{a: quantile(as, 0.5), b: quantile(bs, 0.5), diff: quantile(ds, 0.5), q1: quantile(ds, 0.25), q3: quantile(ds, 0.75)}
}

// quantile is the q-quantile of v (nearest rank).
func quantile(v []time.Duration, q float64) time.Duration {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1)+0.5)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
