//go:build !unix

package main

import "time"

// cpuTime is not measured here: server CPU per request reads as zero.
func cpuTime() time.Duration { return 0 }
