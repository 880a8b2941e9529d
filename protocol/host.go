package protocol

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The host side: what containers/image (or this project's check and lint
// commands) does to use a plugin. The API is small on purpose:
//
//	h := protocol.NewHost()                          // CONTAINERS_POLICY_PLUGINS_DIR, then DefaultPluginDir
//	path, err := h.Resolve("sigstore")               // name rule and file checks, nothing run
//	md, err := h.Metadata(ctx, "sigstore")
//	vc, err := h.ValidateConfig(ctx, "sigstore", config)
//	decision, err := h.Verify(ctx, "sigstore", req)  // accept only if decision.Accepted
//	decision, err := h.VerifyGathered(ctx, "sigstore", gather) // the same, started before gather has the request
//
// Every call resolves and checks the plugin file again, runs it once and
// checks its answer. An error is always a *PluginError (except the error of
// VerifyGathered's gather, returned as it is): the plugin could not be used or
// answered outside the protocol. For Verify that is a rejection
// like a reject verdict, only reported apart, as containers/image keeps
// "rejected" apart from "failed"; Decision.Accepted is false whenever err is
// not nil, so a caller that looks only at Accepted still fails closed.

// DefaultPluginDir is where packages install policy plugins.
const DefaultPluginDir = "/usr/lib/containers/policy-plugins.d"

// PluginDirsEnv names the environment variable holding extra plugin
// directories, colon-separated, searched before DefaultPluginDir (tests, local
// installs).
const PluginDirsEnv = "CONTAINERS_POLICY_PLUGINS_DIR"

// DebugEnv is passed through to plugins when set; a plugin may log more on
// stderr then.
const DebugEnv = "CONTAINERS_POLICY_PLUGIN_DEBUG"

// Host finds, checks and runs policy plugins. The zero value searches only
// DefaultPluginDir with DefaultTimeout; NewHost adds PluginDirsEnv.
type Host struct {
	// Dirs are searched in order for a plugin's file; the first directory
	// holding a file of that name decides (a bad file there is an error, not a
	// reason to look further). Empty means []string{DefaultPluginDir}.
	Dirs []string
	// Timeout bounds one plugin run, after which its whole process group is
	// killed; zero means DefaultTimeout.
	Timeout time.Duration
}

// NewHost returns a Host searching the directories of PluginDirsEnv, then
// DefaultPluginDir, with DefaultTimeout.
func NewHost() *Host {
	return &Host{Dirs: DefaultDirs(), Timeout: DefaultTimeout}
}

// DefaultDirs is every absolute directory listed in PluginDirsEnv, in order,
// then DefaultPluginDir. Empty and relative entries are ignored: a relative
// directory would make the plugin depend on the working directory, the
// classic "." in PATH mistake.
func DefaultDirs() []string {
	var dirs []string
	for _, d := range strings.Split(os.Getenv(PluginDirsEnv), ":") {
		if filepath.IsAbs(d) {
			dirs = append(dirs, filepath.Clean(d))
		}
	}
	return append(dirs, DefaultPluginDir)
}

func (h *Host) dirs() []string {
	if h == nil || len(h.Dirs) == 0 {
		return []string{DefaultPluginDir}
	}
	return h.Dirs
}

func (h *Host) timeout() time.Duration {
	if h == nil || h.Timeout <= 0 {
		return DefaultTimeout
	}
	return h.Timeout
}
