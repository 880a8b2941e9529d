package upstreamcheck

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/e2e"
)

// TestPluginRunsOncePerRequirementPerImage: the cost of a plugin requirement
// is one verify process per requirement per image evaluated, and nothing when
// the policy is loaded; nothing runs it more often (validate-config, metadata,
// retries, a second evaluation in copy.Image).
func TestPluginRunsOncePerRequirementPerImage(t *testing.T) {
	s := newSetting(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, s.addr+"/team/counted:1")
	e2e.SignLegacy(t, key, img.DigestRef())
	log := e2e.CountingPlugin(t, s.plugins, "counted", plugin(t))
	one := pluginRequirement("counted", keyConfig(key, "matchRepository"))
	other := pluginRequirement("counted", keyConfig(key, "digestOnly"))

	tests := []struct {
		name         string
		requirements []string
		want         []string
	}{
		{"one plugin requirement", []string{one}, []string{"verify"}},
		{"beside sigstoreSigned", []string{sigstoreSigned(key), one}, []string{"verify"}},
		{"two plugin requirements", []string{one, other}, []string{"verify", "verify"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy := s.policy(t, tt.requirements...)
			s.copyToOCI(t, patched(t), policy, img.Ref).wantLayout(t, img)
			if got := e2e.Invocations(t, log); !slices.Equal(got, tt.want) {
				t.Errorf("copy.Image ran the plugin for %q, want %q", got, tt.want)
			}
			s.allowed(t, patched(t), policy, img.Ref).want(t, exitAccepted)
			if got := e2e.Invocations(t, log); !slices.Equal(got, tt.want) {
				t.Errorf("IsRunningImageAllowed ran the plugin for %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPluginOfAnotherScopeCostsNothing: a plugin named only in another scope
// runs for no image of this one, and a missing or broken one there does not
// stop this scope's pulls (no plugin runs at policy load).
func TestPluginOfAnotherScopeCostsNothing(t *testing.T) {
	s := newSetting(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	img := e2e.PushImage(t, s.addr+"/other/app:1")
	e2e.SignLegacy(t, key, img.DigestRef())
	log := e2e.CountingPlugin(t, s.plugins, "counted", plugin(t))
	scope := func(repo string) string {
		name, err := json.Marshal(s.addr + "/" + repo)
		if err != nil {
			t.Fatal(err)
		}
		return string(name)
	}
	for _, other := range []string{
		pluginRequirement("counted", keyConfig(key, "matchRepository")),
		pluginRequirement("nosuch", `{}`),
		pluginRequirement("counted", `{"no such field": true}`),
	} {
		t.Run(other, func(t *testing.T) {
			policy := writeFile(t, "policy.json", fmt.Sprintf(`{"default": [{"type": "reject"}],
 "transports": {"docker": {%s: [%s], %s: [%s]}}}`, scope("team"), other, scope("other"), sigstoreSigned(key)))
			s.copyToOCI(t, patched(t), policy, img.Ref).wantLayout(t, img)
			s.allowed(t, patched(t), policy, img.Ref).want(t, exitAccepted)
			if got := e2e.Invocations(t, log); len(got) != 0 {
				t.Errorf("a pull from another scope ran the plugin for %q", got)
			}
		})
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
	s := newSetting(b, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(b)
	img := e2e.PushImage(b, s.addr+"/team/bench:1")
	e2e.SignLegacy(b, key, img.DigestRef())
	builtin := s.policy(b, sigstoreSigned(key))
	plugin := s.policy(b, pluginRequirement("sigstore", keyConfig(key, "matchRepository")))
	prog := patched(b)

	for b.Loop() {
		args := append([]string{"bench", "-rounds", strconv.Itoa(rounds), "-policy", builtin, "-policy", plugin, "-registries.d", s.registriesD}, s.config...)
		r := s.run(b, prog, append(args, "docker://"+img.Ref)...)
		if r.status != exitAccepted {
			b.Fatalf("bench: exit %d: %s", r.status, r.stderr)
		}
		var res struct {
			Load    [][]int64 `json:"loadNanos"`
			Copy    [][]int64 `json:"copyNanos"`
			CopyCPU [][]int64 `json:"copyCPUNanos"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
			b.Fatalf("bench output: %v\n%s", err, r.stdout)
		}
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
