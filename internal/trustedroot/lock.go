package trustedroot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// lockName is the lock file in the cache directory. The cache and the output are
// both written by one run at a time: two runs that interleaved could rename an
// older target over a newer one, or read a cache the other is rewriting.
const lockName = "update.lock"

// lockPoll is how often a waiting run retries: flock cannot wait on a context.
const lockPoll = 50 * time.Millisecond

// lock takes an exclusive flock on dir/update.lock, waiting until ctx ends. The
// kernel drops the lock when the process dies, so a killed run never wedges the
// timer.
func lock(ctx context.Context, dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { _ = f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("waiting for another update holding %s: %w", f.Name(), ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}
