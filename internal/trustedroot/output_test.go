package trustedroot

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// updateWithin runs the update under a 10 s context and fails t when it
// takes more than 5 s: a FIFO or /dev/zero must not hold it.
func (env *testEnv) updateWithin(t *testing.T) (*Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	res, err := Update(ctx, env.opts)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("update took %s", took)
	}
	return res, err
}

// wantOutputRefused fails unless err is an OutputError saying reason.
func wantOutputRefused(t *testing.T, err error, reason string) {
	t.Helper()
	var refused *OutputError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), reason) {
		t.Fatalf("update = %v; want the output refused: %q", err, reason)
	}
}

func TestOutputThatIsNotARegularFileIsRefused(t *testing.T) {
	const secret = "root:$6$hunter2:19000:0:99999:7:::\n"
	for _, tc := range []struct {
		name   string
		make   func(t *testing.T, output string)
		reason string
	}{
		{"a FIFO", func(t *testing.T, output string) { mkfifo(t, output) }, "is not a regular file (a FIFO)"},
		{"a symbolic link to a FIFO", func(t *testing.T, output string) {
			fifo := filepath.Join(t.TempDir(), "fifo")
			mkfifo(t, fifo)
			symlink(t, fifo, output)
		}, "is a symbolic link"},
		{"a symbolic link to /dev/zero", func(t *testing.T, output string) { symlink(t, "/dev/zero", output) }, "is a symbolic link"},
		{"a symbolic link to another file", func(t *testing.T, output string) {
			other := filepath.Join(t.TempDir(), "shadow")
			if err := os.WriteFile(other, []byte(secret), 0o600); err != nil {
				t.Fatal(err)
			}
			symlink(t, other, output)
			t.Cleanup(func() {
				if data, err := os.ReadFile(other); err != nil || string(data) != secret {
					t.Errorf("the file the link names changed: %q, %v", data, err)
				}
			})
		}, "is a symbolic link"},
		{"a directory", func(t *testing.T, output string) {
			if err := os.Mkdir(output, 0o755); err != nil {
				t.Fatal(err)
			}
		}, "is not a regular file (a directory)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			if err := os.MkdirAll(filepath.Dir(env.opts.Output), 0o755); err != nil {
				t.Fatal(err)
			}
			tc.make(t, env.opts.Output)
			_, err := env.updateWithin(t)
			wantOutputRefused(t, err, tc.reason)
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error quotes the file: %v", err)
			}
			if reqs := env.repo.TakeRequests(); len(reqs) != 0 {
				t.Errorf("refused output, yet the mirror was asked for %v", reqs)
			}
		})
	}
	t.Run("a device", func(t *testing.T) {
		env := newTestEnv(t)
		env.opts.Output = "/dev/null"
		_, err := env.updateWithin(t)
		wantOutputRefused(t, err, "is not a regular file (a character device)")
	})
}

func TestPreviousFileIsReadWithALimitAndNeverQuoted(t *testing.T) {
	t.Run("not a trusted root", func(t *testing.T) {
		env := newTestEnv(t)
		if err := os.MkdirAll(filepath.Dir(env.opts.Output), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(env.opts.Output, []byte("root:$6$hunter2:19000:0:99999:7:::\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := env.updateWithin(t)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range res.Changes {
			if strings.Contains(line, "hunter2") || strings.Contains(line, "invalid value") {
				t.Errorf("change line quotes the previous file: %q", line)
			}
		}
		if len(res.Changes) == 0 || res.Changes[0] != "previous file was not a usable trusted root" {
			t.Errorf("changes %q, want the previous file said unusable first", res.Changes)
		}
	})
	t.Run("larger than the limit", func(t *testing.T) {
		env := newTestEnv(t)
		if err := os.MkdirAll(filepath.Dir(env.opts.Output), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(env.opts.Output)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(maxOutputBytes + 1); err != nil { // sparse: no disk used
			t.Fatal(err)
		}
		_ = f.Close()
		_, err = env.updateWithin(t)
		wantOutputRefused(t, err, "is larger than")
	})
}

func TestOutputDirectoryWritableByOthersIsRefused(t *testing.T) {
	for _, mode := range []os.FileMode{0o775, 0o757, 0o777 | os.ModeSticky} {
		t.Run(mode.String(), func(t *testing.T) {
			env := newTestEnv(t)
			dir := filepath.Dir(env.opts.Output)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, mode); err != nil {
				t.Fatal(err)
			}
			_, err := env.updateWithin(t)
			wantOutputRefused(t, err, "writable by group or others")
			if _, serr := os.Lstat(env.opts.Output); !errors.Is(serr, os.ErrNotExist) {
				t.Errorf("the output was written: %v", serr)
			}
		})
	}
}

// Each response is late but within the per-request timeout: the run's
// context, not the number of requests, decides when it ends.
func TestTimeoutBoundsTheWholeUpdate(t *testing.T) {
	env := newTestEnv(t)
	env.repo.SetIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-time.After(400 * time.Millisecond):
		case <-r.Context().Done():
			return true
		}
		return false
	})
	env.opts.Timeout = 5 * time.Second
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := Update(ctx, env.opts)
	took := time.Since(start)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("update under a 1s deadline, each response 400ms late: %v, want the deadline", err)
	}
	if took > 1500*time.Millisecond {
		t.Errorf("update took %s under a 1s deadline", took)
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}
