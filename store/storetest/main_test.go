package storetest_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/emgcache/emgcache/store/storetest"
)

// helperEnv makes the test binary act as a program that starts a server and
// then waits to be killed, for TestServerDiesWithParent.
const helperEnv = "STORETEST_HELPER_START_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(startServerAndWait())
	}
	goleak.VerifyTestMain(m)
}

func startServerAndWait() int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := storetest.Start(ctx, storetest.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(s.Addr())
	// The parent kills us; the server must not outlive us.
	time.Sleep(time.Minute)
	return 2
}
