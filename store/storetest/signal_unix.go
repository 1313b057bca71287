//go:build unix

package storetest

import (
	"os"
	"syscall"
)

var (
	stopSignal os.Signal = syscall.SIGSTOP
	contSignal os.Signal = syscall.SIGCONT
	termSignal os.Signal = syscall.SIGTERM
)
