package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/protocol"
)

// The verify process starts before the signatures are read: a proxy holds
// the request for the .sig attachment until a `sigstore verify` process of
// this test is running. Were verify started only once the signatures are
// here, the hold would time out and nothing would have run.
func TestCheckStartsVerifyWhileTheSignaturesAreRead(t *testing.T) {
	env := newCheckEnv(t, e2e.RegistryOptions{})
	env.tlsFromRegistriesConf = true
	key := e2e.GenerateKeyPair(t)
	pushed := e2e.PushImage(t, env.addr+"/team/app:1")
	e2e.SignLegacy(t, key, pushed.DigestRef())

	proxy := e2e.StartCountingProxy(t, env.addr)
	useRegistriesConf(t, fmt.Sprintf("[[registry]]\nlocation = %q\ninsecure = true\n", proxy.Addr))
	through := *env
	through.registriesD = env.writeRegistriesD(t, "docker:\n  "+proxy.Addr+":\n    use-sigstore-attachments: true\n")
	policy := scopePolicy(t, proxy.Addr+"/team", pluginRequirement(keyConfig(key, "digestOnly")))

	var held, verifyRunning atomic.Bool
	proxy.Hold(func(r e2e.ProxiedRequest) {
		if !strings.HasSuffix(r.Path, ".sig") {
			return
		}
		held.Store(true)
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if childRunning(protocol.CommandVerify) {
				verifyRunning.Store(true)
				return
			}
		}
	})
	r := through.check(t, policy, proxy.Addr+"/team/app:1", "json")
	r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
	if !held.Load() {
		t.Fatal("check never asked for the .sig attachment")
	}
	if !verifyRunning.Load() {
		t.Error("no verify process ran while the .sig attachment was being read")
	}
}

// childRunning says whether a child process of this test runs `PATH command`.
func childRunning(command string) bool {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	self := strconv.Itoa(os.Getpid())
	for _, d := range dirs {
		stat, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[1] != self {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil {
			continue
		}
		if args := bytes.Split(cmdline, []byte{0}); len(args) >= 2 && string(args[1]) == command {
			return true
		}
	}
	return false
}

// A verify started early is stopped when the image cannot be read: the
// registry's error is check's answer and no plugin process outlives it.
func TestCheckStopsTheEarlyVerifyWhenTheImageCannotBeRead(t *testing.T) {
	env := newCheckEnv(t, e2e.RegistryOptions{})
	key := e2e.GenerateKeyPair(t)
	policy := env.policy(t, pluginRequirement(keyConfig(key, "matchRepository")))

	r := env.check(t, policy, env.addr+"/team/missing:1", "text")
	r.want(t, ExitUsage, r.stderr, "team/missing")
	if childRunning(protocol.CommandVerify) {
		t.Error("a verify process is still running after check returned")
	}
}
