package main

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes cmd's process get SIGKILL when the harness dies,
// even from a SIGKILL of its own.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
