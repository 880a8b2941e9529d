package protocol

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// validPluginName is the protocol's rule for a plugin name,
// ^[a-z0-9][a-z0-9._-]{0,63}$: a bare file name, so that policy.json can never
// point outside the plugin directories. A loop, not a regexp: the bounded
// repetition compiles to a large program at every process start.
func validPluginName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// ValidatePluginName reports whether name is a valid plugin name
// (^[a-z0-9][a-z0-9._-]{0,63}$).
func ValidatePluginName(name string) error {
	if !validPluginName(name) {
		return fmt.Errorf("invalid plugin name %s: want lowercase letters, digits, '.', '_' or '-', starting with a letter or digit, at most 64 characters", quote(name))
	}
	return nil
}

// Resolve finds the file of plugin name and checks it without running it: the
// first of h's directories that holds an entry of that name decides, and the
// entry must be a regular file (not a symlink), executable, and not writable
// by group or others.
//
// The checks catch a misconfigured installation; they cannot stop someone who
// can already replace files in a plugin directory between the check and the
// run, and they do not try to.
func (h *Host) Resolve(name string) (string, error) {
	if err := ValidatePluginName(name); err != nil {
		return "", &PluginError{Plugin: name, Message: err.Error()}
	}
	for _, dir := range h.dirs() {
		path := filepath.Join(dir, name)
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", &PluginError{Plugin: name, Message: OneLine(err.Error())}
		}
		if err := checkPluginFile(fi); err != nil {
			return "", &PluginError{Plugin: name, Message: path + ": " + err.Error()}
		}
		return path, nil
	}
	return "", &PluginError{Plugin: name, Message: fmt.Sprintf("not found in %q", h.dirs())}
}

// checkPluginFile applies the protocol's file rules to the Lstat of a plugin.
func checkPluginFile(fi fs.FileInfo) error {
	mode := fi.Mode()
	switch {
	case mode&fs.ModeSymlink != 0:
		return errors.New("is a symbolic link; install the plugin as a regular file")
	case !mode.IsRegular():
		return fmt.Errorf("is not a regular file (%s)", mode.Type())
	case mode.Perm()&0o111 == 0:
		return fmt.Errorf("is not executable (mode %#o)", mode.Perm())
	case mode.Perm()&0o022 != 0:
		return fmt.Errorf("is writable by group or others (mode %#o); anyone who can write it decides what is accepted", mode.Perm())
	}
	return nil
}
