//go:build linux

package storetest_test

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServerDiesWithParent kills a program that started a server and checks
// that the server goes with it, so that a crashed test run leaves nothing
// behind.
func TestServerDiesWithParent(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// TMPDIR catches the server directory the killed program cannot remove.
	cmd.Env = append(os.Environ(), helperEnv+"=1", "TMPDIR="+t.TempDir())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "the helper reports the server address")
	addr := line[:len(line)-1]
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	require.NoError(t, err, "the server runs while its parent does")
	conn.Close()

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()

	assert.Eventually(t, func() bool {
		conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			conn.Close()
		}
		return err != nil
	}, 5*time.Second, 20*time.Millisecond, "the server outlived its parent")
}
