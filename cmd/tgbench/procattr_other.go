//go:build !linux

package main

import "syscall"

// childProcAttr: without Linux's Pdeathsig a child outlives a killed
// tgbench; the normal paths stop it explicitly.
func childProcAttr() *syscall.SysProcAttr { return nil }
