//go:build !linux

package storetest

import (
	"syscall"
	"time"
)

// sysProcAttr has nothing to add outside Linux, which alone offers a
// parent-death signal; servers of a test binary that dies there outlive it
// until killed by hand.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// waitStopped cannot observe the process state portably, so it gives the
// signal a moment to land instead.
func waitStopped(int, time.Duration) error {
	time.Sleep(10 * time.Millisecond)
	return nil
}
