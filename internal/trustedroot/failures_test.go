package trustedroot

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Failures that are not TUF's verdict: the update is an error (exit 2), and the
// previous file stays.
func TestFailuresLeaveTheFileIntact(t *testing.T) {
	tests := []struct {
		name string
		// run makes the failure happen and runs the update.
		run  func(t *testing.T, env *testEnv) error
		want string
	}{
		{
			name: "the server answers 500",
			run: func(t *testing.T, env *testEnv) error {
				env.repo.SetIntercept(func(w http.ResponseWriter, r *http.Request) bool {
					if r.URL.Path != "/timestamp.json" {
						return false
					}
					http.Error(w, "overloaded", http.StatusInternalServerError)
					return true
				})
				_, err := env.update(t)
				return err
			},
			want: "http status code: 500",
		},
		{
			name: "the server stalls past the timeout",
			run: func(t *testing.T, env *testEnv) error {
				env.repo.SetIntercept(func(w http.ResponseWriter, r *http.Request) bool {
					if r.URL.Path != "/timestamp.json" {
						return false
					}
					select { // until the client gives up
					case <-r.Context().Done():
					case <-time.After(30 * time.Second):
					}
					return true
				})
				env.opts.Timeout = 300 * time.Millisecond
				start := time.Now()
				_, err := env.update(t)
				if elapsed := time.Since(start); elapsed > 5*time.Second {
					t.Errorf("a stalled server held the update for %v with a 300ms timeout", elapsed)
				}
				return err
			},
			want: "Client.Timeout exceeded",
		},
		{
			name: "the output directory is not writable",
			run: func(t *testing.T, env *testEnv) error {
				env.repo.Release(env.second(t))
				dir := filepath.Dir(env.opts.Output)
				if err := os.Chmod(dir, 0o555); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
				var err error
				withoutDACOverride(t, func() { _, err = env.update(t) })
				return err
			},
			want: "permission denied",
		},
		{
			name: "the disk is full",
			run: func(t *testing.T, env *testEnv) error {
				env.repo.Release(env.second(t))
				fillDisk(t, 4096)
				_, err := env.update(t)
				return err
			},
			want: "no space left on device",
		},
		{
			name: "another update holds the lock past the timeout",
			run: func(t *testing.T, env *testEnv) error {
				env.repo.Release(env.second(t))
				unlock, err := lock(context.Background(), env.opts.CacheDir)
				if err != nil {
					t.Fatal(err)
				}
				defer unlock()
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				defer cancel()
				_, err = Update(ctx, env.opts)
				return err
			},
			want: "waiting for another update",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			env.mustUpdate(t)
			before := env.files(t)
			assertFailed(t, tt.run(t, env), tt.want)
			env.assertIntact(t, before)
		})
	}
}

// withoutDACOverride runs f unable to write where the file mode forbids it. Root
// ignores modes (CAP_DAC_OVERRIDE), and the tests run as root in CI; so this
// thread drops that capability from its effective set for f and takes it back.
// Capabilities are per thread, and f's file operations run on this one.
func withoutDACOverride(t *testing.T, f func()) {
	if os.Geteuid() != 0 {
		f()
		return
	}
	runtime.LockOSThread()
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var saved [2]unix.CapUserData
	if err := unix.Capget(&hdr, &saved[0]); err != nil {
		t.Fatalf("capget: %v", err)
	}
	dropped := saved
	dropped[0].Effective &^= 1<<unix.CAP_DAC_OVERRIDE | 1<<unix.CAP_DAC_READ_SEARCH | 1<<unix.CAP_FOWNER
	if err := unix.Capset(&hdr, &dropped[0]); err != nil {
		t.Fatalf("capset: %v", err)
	}
	defer func() {
		if err := unix.Capset(&hdr, &saved[0]); err != nil {
			// Leave the thread locked: the runtime retires it with the goroutine.
			t.Errorf("restoring capabilities: %v", err)
			return
		}
		runtime.UnlockOSThread()
	}()
	f()
}

// fillDisk makes temporary files fail as on a full file system: the first
// limit bytes are written, the rest fail with ENOSPC.
func fillDisk(t *testing.T, limit int) {
	actual := createTemp
	createTemp = func(dir, pattern string) (tempFile, error) {
		f, err := actual(dir, pattern)
		if err != nil {
			return nil, err
		}
		return &fullDisk{tempFile: f, room: limit}, nil
	}
	t.Cleanup(func() { createTemp = actual })
}

type fullDisk struct {
	tempFile
	room int
}

func (f *fullDisk) Write(p []byte) (int, error) {
	n := min(len(p), f.room)
	n, err := f.tempFile.Write(p[:n])
	f.room -= n
	if err == nil && n < len(p) {
		err = &fs.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return n, err
}

func TestConcurrentRunsDoNotInterleave(t *testing.T) {
	env := newTestEnv(t)
	// Slow the first step of the workflow so that both runs are in flight at once.
	env.repo.SetIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		time.Sleep(50 * time.Millisecond)
		return false
	})
	var wg sync.WaitGroup
	results := make([]*Result, 2)
	errs := make([]error, 2)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = env.update(t) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// Serialized, the first run installs the root and the second finds it
	// current with the cache the first left: exactly the full workflow once,
	// then the two requests of a run with nothing new.
	if results[0].Changed == results[1].Changed {
		t.Errorf("changed: %v and %v, want exactly one run to install the root", results[0].Changed, results[1].Changed)
	}
	got := env.repo.TakeRequests()
	if len(got) != 5+2 || got[5] != "/2.root.json" || got[6] != "/timestamp.json" {
		t.Errorf("requests %s: want one full workflow, then /2.root.json /timestamp.json", strings.Join(got, " "))
	}
	env.assertIntact(t, env.files(t))
	data, err := os.ReadFile(env.opts.Output)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseRoot(data); err != nil {
		t.Fatal(err)
	}
}
