//go:build !unix

package storetest

import "os"

// Without job-control signals Pause and Resume fail and Stop falls back to
// killing; redis-server does not support such systems anyway.
var (
	stopSignal os.Signal
	contSignal os.Signal
	termSignal os.Signal = os.Kill
)
