package main

import "syscall"

// childProcAttr makes the kernel stop a child server if tgbench dies without
// stopping it (SIGKILL, panic), so no gateway is left holding a port.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
