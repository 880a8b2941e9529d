package trustedroot

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// maxOutputBytes bounds the previous trusted root read: the public-good one
// is about 10 KiB.
const maxOutputBytes = 16 << 20

// OutputError is an --output that update refuses to touch.
type OutputError struct {
	Path   string
	Reason string
}

func (e *OutputError) Error() string { return fmt.Sprintf("--output %s: %s", e.Path, e.Reason) }

// readOutput reads the current output file: nil when there is none. It must
// be a regular file, named directly: a symbolic link is refused, not
// followed (update replaces the name with a rename, which would replace the
// link and never write where it points, and reading through it would read
// whatever it names: a FIFO that never answers, /dev/zero, a secret), and so
// is a FIFO or a device, opened without blocking to find out. It is read
// with a limit.
func readOutput(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case errors.Is(err, unix.ELOOP):
		return nil, &OutputError{path, "is a symbolic link: name the file itself"}
	case err != nil:
		return nil, fmt.Errorf("reading the current file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading the current file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, &OutputError{path, fmt.Sprintf("is not a regular file (%s)", fileType(info.Mode()))}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxOutputBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the current file: %w", err)
	}
	if len(data) > maxOutputBytes {
		return nil, &OutputError{path, fmt.Sprintf("is larger than %d bytes: not a trusted root", maxOutputBytes)}
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	default:
		return m.Type().String()
	}
}

// checkOutputDir refuses an output directory that group or others may write:
// whoever can write there can swap the trusted root between runs, or put a
// link or a FIFO under its name, and every keyless verification trusts that
// file. The sticky bit (as on /tmp) does not help: others can still create
// the name first.
func checkOutputDir(output string) error {
	dir := filepath.Dir(output)
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	perm := info.Mode().Perm()
	if perm&0o022 == 0 {
		return nil
	}
	mode := uint32(perm)
	if info.Mode()&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return &OutputError{output, fmt.Sprintf("its directory %s has mode %04o, writable by group or others: whoever can write there can replace the trusted root", dir, mode)}
}
