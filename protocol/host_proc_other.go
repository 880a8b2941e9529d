//go:build !linux

package protocol

import (
	"errors"
	"os/exec"
)

// The host runs plugins on Linux only: killing a plugin's whole process group
// without racing PID reuse needs waitid(WNOWAIT). Elsewhere every run fails,
// which is a rejection.
var errUnsupportedOS = errors.New("running policy plugins is supported on Linux only")

func startInGroup(cmd *exec.Cmd) error { return errUnsupportedOS }

func killGroup(pid int) {}

func waitExited(pid int) error { return errUnsupportedOS }
