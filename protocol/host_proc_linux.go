package protocol

import (
	"os/exec"
	"syscall"
	"unsafe"
)

// startInGroup starts cmd as the leader of a new process group, so that the
// plugin and everything it starts can be killed together.
func startInGroup(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd.Start()
}

// killGroup kills the process group led by pid. It must be called before the
// leader is reaped: until then the kernel cannot hand the ID to another
// process, so the signal cannot reach a stranger.
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// waitExited blocks until process pid has exited, without reaping it
// (waitid with WNOWAIT, as package os does internally), so that its group can
// still be killed safely afterwards.
func waitExited(pid int) error {
	const pPID = 1 // P_PID
	var siginfo [128]byte
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&siginfo[0])), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		if errno != syscall.EINTR {
			if errno != 0 {
				return errno
			}
			return nil
		}
	}
}
