package trustedroot

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// fileMode is the output's mode: trust material is public, and podman runs
// rootless as well as as root.
const fileMode = 0o644

// tempFile is what an atomic write needs of its temporary file; a test swaps in
// one whose writes fail the way a full disk does.
type tempFile interface {
	io.Writer
	Name() string
	Sync() error
	Chmod(os.FileMode) error
	Close() error
}

// createTemp makes the temporary file beside the target, so that the rename
// stays within one file system and is atomic.
var createTemp = func(dir, pattern string) (tempFile, error) { return os.CreateTemp(dir, pattern) }

// staged is a complete, synced temporary file waiting to replace its target.
type staged struct {
	path, target string
}

// stage writes data to a temporary file in target's directory, syncs it and
// gives it mode 0644. Nothing visible under target's name changes.
func stage(target string, data []byte) (*staged, error) {
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	f, err := createTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary file beside %s: %w", target, err)
	}
	s := &staged{path: f.Name(), target: target}
	fail := func(step string, err error) (*staged, error) {
		_ = f.Close()
		s.discard()
		return nil, fmt.Errorf("%s %s: %w", step, s.path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail("writing", err)
	}
	if err := f.Chmod(fileMode); err != nil { // independent of the umask
		return fail("setting the mode of", err)
	}
	if err := f.Sync(); err != nil {
		return fail("syncing", err)
	}
	if err := f.Close(); err != nil {
		return fail("closing", err)
	}
	return s, nil
}

// discard removes the temporary file; the target is untouched.
func (s *staged) discard() { _ = os.Remove(s.path) }

// commit renames the temporary file over the target and syncs the directory, so
// that after a crash the name points at either the old or the new content.
func (s *staged) commit() error {
	if err := os.Rename(s.path, s.target); err != nil {
		s.discard()
		return fmt.Errorf("replacing %s: %w", s.target, err)
	}
	return syncDir(filepath.Dir(s.target))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// writeAtomic replaces target with data in one step.
func writeAtomic(target string, data []byte) error {
	s, err := stage(target, data)
	if err != nil {
		return err
	}
	return s.commit()
}
