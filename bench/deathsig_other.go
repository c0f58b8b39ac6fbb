//go:build !linux

package main

import "os/exec"

// setDeathSignal does nothing where there is no parent-death signal: the
// harness kills its processes as it exits.
func setDeathSignal(*exec.Cmd) {}
