//go:build !linux

package obs

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
