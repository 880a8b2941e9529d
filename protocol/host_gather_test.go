package protocol

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// runningPlugin returns the PID of a running `path verify` process, polling
// for up to ten seconds; 0 when there is none.
func runningPlugin(t *testing.T, path string) int {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		dirs, _ := filepath.Glob("/proc/[0-9]*")
		for _, d := range dirs {
			cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
			if err != nil {
				continue
			}
			if args := bytes.Split(cmdline, []byte{0}); len(args) >= 2 && string(args[0]) == path && string(args[1]) == CommandVerify {
				pid, _ := strconv.Atoi(filepath.Base(d))
				return pid
			}
		}
	}
	return 0
}

// gone says whether process pid no longer exists (killed and reaped).
func gone(pid int) bool { return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }

func TestVerifyGatheredStartsThePluginBeforeTheRequestExists(t *testing.T) {
	h, dir := installPlugin(t, "good")
	path := filepath.Join(dir, "good")
	gathered := 0
	d, err := h.VerifyGathered(context.Background(), "good", func(context.Context) (*VerifyRequest, error) {
		gathered++
		if runningPlugin(t, path) == 0 {
			t.Error("the plugin is not running while the request is gathered")
		}
		return testVerifyRequest(acceptConfig), nil
	})
	if err != nil || !d.Accepted {
		t.Fatalf("decision %+v, error %v; want accepted", d, err)
	}
	if gathered != 1 {
		t.Errorf("gather called %d times, want once", gathered)
	}
	want, _ := h.Verify(context.Background(), "good", testVerifyRequest(acceptConfig))
	if d.Reason != want.Reason || d.ManifestDigest != want.ManifestDigest || len(d.Response.Signatures) != len(want.Response.Signatures) {
		t.Errorf("VerifyGathered decided %+v, Verify %+v: want the same", d, want)
	}
}

func TestVerifyGatheredChecksTheAnswerAsVerifyDoes(t *testing.T) {
	// The answer is judged against the gathered request: one that does not
	// echo its requestID, or answers about another manifest, is not believed.
	for _, plugin := range []string{"wrong-id", "wrong-digest"} {
		t.Run(plugin, func(t *testing.T) {
			h, _ := installPlugin(t, plugin)
			d, err := h.VerifyGathered(context.Background(), plugin, func(context.Context) (*VerifyRequest, error) {
				return testVerifyRequest(acceptConfig), nil
			})
			assertRejected(t, d, err, "VerifyResponse not believed")
		})
	}
}

func TestVerifyGatheredKillsThePluginWhenGatheringFails(t *testing.T) {
	h, dir := installPlugin(t, "good")
	path := filepath.Join(dir, "good")
	registryDown := errors.New("reading signatures: registry unreachable")
	var pid int
	d, err := h.VerifyGathered(context.Background(), "good", func(context.Context) (*VerifyRequest, error) {
		pid = runningPlugin(t, path)
		return nil, registryDown
	})
	if !errors.Is(err, registryDown) {
		t.Fatalf("error %v, want gather's own error", err)
	}
	var perr *PluginError
	if errors.As(err, &perr) {
		t.Errorf("error %v is a *PluginError: the plugin did nothing wrong", err)
	}
	if d.Accepted || d.Response != nil || d.Reason != registryDown.Error() {
		t.Errorf("decision %+v, want a rejection saying %q", d, registryDown)
	}
	if pid == 0 || !gone(pid) {
		t.Errorf("plugin process %d still exists after the call", pid)
	}
}

func TestVerifyGatheredTimesThePluginFromItsRequest(t *testing.T) {
	t.Run("gathering longer than the timeout is not the plugin's time", func(t *testing.T) {
		h, _ := installPlugin(t, "good")
		h.Timeout = 2 * time.Second
		d, err := h.VerifyGathered(context.Background(), "good", func(context.Context) (*VerifyRequest, error) {
			time.Sleep(3 * time.Second)
			return testVerifyRequest(acceptConfig), nil
		})
		if err != nil || !d.Accepted {
			t.Fatalf("decision %+v, error %v; want accepted", d, err)
		}
	})
	t.Run("a plugin that hangs on its request times out", func(t *testing.T) {
		h, _ := installPlugin(t, "sleeper")
		h.Timeout = 300 * time.Millisecond
		d, err := h.VerifyGathered(context.Background(), "sleeper", func(context.Context) (*VerifyRequest, error) {
			return testVerifyRequest(acceptConfig), nil
		})
		assertRejected(t, d, err, "timed out after 300ms; its process group was killed")
	})
}

func TestVerifyGatheredStopsWithTheCallersContext(t *testing.T) {
	h, dir := installPlugin(t, "good")
	path := filepath.Join(dir, "good")
	ctx, cancel := context.WithCancel(context.Background())
	var pid int
	d, err := h.VerifyGathered(ctx, "good", func(ctx context.Context) (*VerifyRequest, error) {
		pid = runningPlugin(t, path)
		cancel() // the pull is abandoned while its signatures are read
		<-ctx.Done()
		return nil, ctx.Err()
	})
	if !errors.Is(err, context.Canceled) || d.Accepted {
		t.Fatalf("decision %+v, error %v; want gather's context.Canceled", d, err)
	}
	if pid == 0 || !gone(pid) {
		t.Errorf("plugin process %d still exists after the call", pid)
	}
}

func TestVerifyGatheredReportsAPluginThatDiedBeforeItsRequest(t *testing.T) {
	// The plugin exits at once; the request is still gathered (the caller's
	// work, bounded by its context) and the plugin's failure reported.
	h, _ := installPlugin(t, "dies-at-start")
	gathered := false
	d, err := h.VerifyGathered(context.Background(), "dies-at-start", func(context.Context) (*VerifyRequest, error) {
		time.Sleep(200 * time.Millisecond)
		gathered = true
		return testVerifyRequest(acceptConfig), nil
	})
	assertRejected(t, d, err, "exit status 3; stderr: cannot start")
	if !gathered {
		t.Error("the call returned before gather did")
	}
}

func TestVerifyGatheredRefusesABadGatheredRequest(t *testing.T) {
	h, _ := installPlugin(t, "good")
	d, err := h.VerifyGathered(context.Background(), "good", func(context.Context) (*VerifyRequest, error) {
		req := testVerifyRequest(acceptConfig)
		req.Image.Manifest = nil
		return req, nil
	})
	assertRejected(t, d, err, `plugin "good" verify: the request has no manifest`)
	if got := err.Error(); got != `plugin "good" verify: the request has no manifest` {
		t.Errorf("error %q, want the host's reason once", got)
	}
}
