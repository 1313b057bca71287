package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store/storetest"
)

func TestServerAddrAndURL(t *testing.T) {
	t.Parallel()
	s := storetest.NewServer(t)

	host, port, err := net.SplitHostPort(s.Addr())
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", host)
	assert.NotEqual(t, "6379", port, "must never use the shared server's port")
	assert.Equal(t, "redis://"+s.Addr()+"/0", s.URL())
}

func TestServerDo(t *testing.T) {
	t.Parallel()
	s := storetest.NewServer(t)
	ctx := t.Context()

	// The steps share one server, so their order matters.
	tests := []struct {
		name    string
		args    []string
		want    string
		wantErr error
	}{
		{name: "simple string", args: []string{"PING"}, want: "PONG"},
		{name: "set", args: []string{"SET", "k", "v"}, want: "OK"},
		{name: "bulk string", args: []string{"GET", "k"}, want: "v"},
		{name: "empty bulk string", args: []string{"SET", "empty", ""}, want: "OK"},
		{name: "empty value is not nil", args: []string{"GET", "empty"}, want: ""},
		{name: "binary-safe value", args: []string{"SET", "crlf", "a\r\nb"}, want: "OK"},
		{name: "binary-safe reply", args: []string{"GET", "crlf"}, want: "a\r\nb"},
		{name: "integer", args: []string{"INCR", "n"}, want: "1"},
		{name: "dbsize", args: []string{"DBSIZE"}, want: "4"},
		{name: "nil", args: []string{"GET", "missing"}, wantErr: storetest.ErrNil},
		{name: "array", args: []string{"RPUSH", "l", "a", "b", "c"}, want: "3"},
		{name: "array joined by lines", args: []string{"LRANGE", "l", "0", "-1"}, want: "a\nb\nc"},
		{name: "empty array", args: []string{"LRANGE", "nolist", "0", "-1"}, want: ""},
		{name: "nil in array", args: []string{"MGET", "k", "missing", "n"}, want: "v\n\n1"},
		{name: "nested array", args: []string{"CONFIG", "GET", "maxmemory-policy"}, want: "maxmemory-policy\nallkeys-lru"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Do(ctx, tt.args...)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestServerDoReplyError(t *testing.T) {
	t.Parallel()
	s := storetest.NewServer(t)
	ctx := t.Context()

	tests := []struct {
		name   string
		args   []string
		prefix string
	}{
		{name: "unknown command", args: []string{"NOSUCHCOMMAND"}, prefix: "ERR unknown command"},
		{name: "wrong type", args: []string{"LPUSH", "str", "x"}, prefix: "WRONGTYPE"},
	}
	_, err := s.Do(ctx, "SET", "str", "v")
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Do(ctx, tt.args...)
			var re storetest.ReplyError
			require.ErrorAs(t, err, &re)
			assert.True(t, strings.HasPrefix(string(re), tt.prefix), "reply error %q", re)
		})
	}

	_, err = s.Do(ctx)
	assert.Error(t, err, "a command is required")
}

func TestServerDefaults(t *testing.T) {
	t.Parallel()
	s := storetest.NewServer(t)

	tests := []struct {
		param string
		want  string
	}{
		{"bind", "127.0.0.1"},
		{"save", ""},
		{"appendonly", "no"},
		{"maxmemory", strconv.Itoa(256 << 20)},
		{"maxmemory-policy", "allkeys-lru"},
		{"daemonize", "no"},
		{"requirepass", ""},
	}
	for _, tt := range tests {
		t.Run(tt.param, func(t *testing.T) {
			got, err := s.Do(t.Context(), "CONFIG", "GET", tt.param)
			require.NoError(t, err)
			assert.Equal(t, tt.param+"\n"+tt.want, got)
		})
	}
}

func TestServerOptions(t *testing.T) {
	t.Parallel()
	s := storetest.NewServer(t, storetest.Options{
		Args:     []string{"--maxmemory", "10mb", "--maxmemory-policy", "noeviction"},
		Password: "p@ss word",
	})
	ctx := t.Context()

	got, err := s.Do(ctx, "CONFIG", "GET", "maxmemory")
	require.NoError(t, err, "Do authenticates with the password")
	assert.Equal(t, "maxmemory\n"+strconv.Itoa(10<<20), got, "Args override the defaults")

	got, err = s.Do(ctx, "CONFIG", "GET", "maxmemory-policy")
	require.NoError(t, err)
	assert.Equal(t, "maxmemory-policy\nnoeviction", got)

	got, err = s.Do(ctx, "CONFIG", "GET", "requirepass")
	require.NoError(t, err)
	assert.Equal(t, "requirepass\np@ss word", got)

	u, err := url.Parse(s.URL())
	require.NoError(t, err)
	pw, ok := u.User.Password()
	assert.True(t, ok)
	assert.Equal(t, "p@ss word", pw)
	assert.Equal(t, s.Addr(), u.Host)
	assert.Equal(t, "/0", u.Path)

	// Without the password the server refuses clients.
	conn, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = conn.Write([]byte("PING\r\n"))
	require.NoError(t, err)
	buf := make([]byte, 64)
	n, err := conn.Read(buf)
	require.NoError(t, err)
	assert.Contains(t, string(buf[:n]), "NOAUTH")
}

func TestNewServerTooManyOptions(t *testing.T) {
	t.Parallel()
	ft := &fatalTB{TB: t}
	runFatal(func() { storetest.NewServer(ft, storetest.Options{}, storetest.Options{}) })
	assert.Contains(t, ft.msg, "at most one Options")
}

func TestServerKillRestart(t *testing.T) {
	t.Parallel()
	s := storetest.NewServer(t)
	ctx := t.Context()
	addr := s.Addr()

	_, err := s.Do(ctx, "SET", "k", "v")
	require.NoError(t, err)

	require.NoError(t, s.Kill())
	_, err = s.Do(ctx, "PING")
	require.Error(t, err, "a killed server answers nothing")
	assert.Equal(t, addr, s.Addr(), "Kill keeps the address")
	require.NoError(t, s.Kill(), "killing a dead server does nothing")

	require.NoError(t, s.Restart(ctx))
	assert.Equal(t, addr, s.Addr(), "Restart reuses the address")
	got, err := s.Do(ctx, "PING")
	require.NoError(t, err)
	assert.Equal(t, "PONG", got)
	_, err = s.Do(ctx, "GET", "k")
	require.ErrorIs(t, err, storetest.ErrNil, "a restarted server starts empty")

	// Restarting a running server replaces its process.
	before, err := s.Do(ctx, "INFO", "server")
	require.NoError(t, err)
	require.NoError(t, s.Restart(ctx))
	after, err := s.Do(ctx, "INFO", "server")
	require.NoError(t, err)
	assert.NotEqual(t, infoField(before, "run_id"), infoField(after, "run_id"))
}

func TestServerStop(t *testing.T) {
	t.Parallel()
	s := storetest.NewServer(t)
	ctx := t.Context()

	require.NoError(t, s.Stop())
	_, err := s.Do(ctx, "PING")
	require.Error(t, err)
	require.NoError(t, s.Stop(), "stopping a stopped server does nothing")

	require.NoError(t, s.Restart(ctx))
	got, err := s.Do(ctx, "PING")
	require.NoError(t, err)
	assert.Equal(t, "PONG", got)
}

func TestServerPauseResume(t *testing.T) {
	t.Parallel()
	s := storetest.NewServer(t)
	ctx := t.Context()

	require.NoError(t, s.Pause())

	dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Do(dctx, "PING")
	require.ErrorIs(t, err, context.DeadlineExceeded, "a paused server does not answer")
	assert.Less(t, time.Since(start), 2*time.Second, "Do gives up at the deadline")

	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err = s.Do(cctx, "PING")
	require.ErrorIs(t, err, context.Canceled, "cancelling the context stops Do")

	require.NoError(t, s.Resume())
	got, err := s.Do(ctx, "PING")
	require.NoError(t, err)
	assert.Equal(t, "PONG", got)
}

func TestServerStopWhilePaused(t *testing.T) {
	t.Parallel()
	s := storetest.NewServer(t)

	require.NoError(t, s.Pause())
	done := make(chan error, 1)
	go func() { done <- s.Stop() }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Stop hangs on a paused server")
	}
}

func TestServerNotRunning(t *testing.T) {
	t.Parallel()
	s := storetest.NewServer(t)
	require.NoError(t, s.Kill())

	assert.Error(t, s.Pause())
	assert.Error(t, s.Resume())
}

func TestServerClose(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := storetest.Start(ctx, storetest.Options{})
	require.NoError(t, err)
	addr := s.Addr()

	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")

	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		conn.Close()
	}
	assert.Error(t, err, "nothing listens after Close")

	tests := []struct {
		name string
		call func() error
	}{
		{"Do", func() error { _, err := s.Do(ctx, "PING"); return err }},
		{"Kill", s.Kill},
		{"Stop", s.Stop},
		{"Pause", s.Pause},
		{"Resume", s.Resume},
		{"Restart", func() error { return s.Restart(ctx) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, tt.call(), storetest.ErrClosed)
		})
	}
}

func TestServersAreSeparate(t *testing.T) {
	t.Parallel()
	const n = 4
	servers := make([]*storetest.Server, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { servers[i] = storetest.NewServer(t) })
	}
	wg.Wait()

	seen := map[string]bool{}
	for i, s := range servers {
		require.NotNil(t, s)
		assert.False(t, seen[s.Addr()], "address %s used twice", s.Addr())
		seen[s.Addr()] = true
		_, err := s.Do(t.Context(), "SET", "who", strconv.Itoa(i))
		require.NoError(t, err)
	}
	for i, s := range servers {
		got, err := s.Do(t.Context(), "GET", "who")
		require.NoError(t, err)
		assert.Equal(t, strconv.Itoa(i), got)
	}
}

func TestStartFailureIncludesLog(t *testing.T) {
	t.Parallel()
	_, err := storetest.Start(t.Context(), storetest.Options{Args: []string{"--no-such-directive", "x"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Bad directive", "the error carries the server's log")
	assert.NotErrorIs(t, err, storetest.ErrNoRedisServer)
}

func TestMissingRedisServer(t *testing.T) {
	// Not parallel: it changes the environment.
	t.Setenv(storetest.EnvRedisServer, "/nonexistent/redis-server")

	_, err := storetest.Start(t.Context(), storetest.Options{})
	require.ErrorIs(t, err, storetest.ErrNoRedisServer)
	assert.NotContains(t, err.Error(), "\n", "the message is one line")
	assert.Contains(t, err.Error(), "make redis-server")

	_, err = storetest.StartCluster(t.Context(), 3)
	require.ErrorIs(t, err, storetest.ErrNoRedisServer)

	// Tests fail, rather than skip, without the binary.
	ft := &fatalTB{TB: t}
	runFatal(func() { storetest.NewServer(ft) })
	assert.True(t, ft.fatal)
	assert.Contains(t, ft.msg, "make redis-server")
}

func TestCluster(t *testing.T) {
	t.Parallel()
	c := storetest.NewCluster(t, 3)
	ctx := t.Context()

	nodes := c.Nodes()
	require.Len(t, nodes, 3)
	addrs := c.Addrs()
	require.Len(t, addrs, 3)
	for i, n := range nodes {
		assert.Equal(t, addrs[i], n.Addr())
	}
	assert.Equal(t, fmt.Sprintf("redis://%s?addr=%s&addr=%s", addrs[0], addrs[1], addrs[2]), c.URL())

	for _, n := range nodes {
		t.Run("node "+n.Addr(), func(t *testing.T) {
			info, err := n.Do(ctx, "CLUSTER", "INFO")
			require.NoError(t, err)
			for _, want := range []string{"cluster_state:ok", "cluster_slots_assigned:16384", "cluster_known_nodes:3", "cluster_size:3"} {
				assert.Contains(t, info, want+"\r\n")
			}

			// Each range is start, end, then ip, port and id of its master.
			slots, err := n.Do(ctx, "CLUSTER", "SLOTS")
			require.NoError(t, err)
			for _, a := range addrs {
				host, port, err := net.SplitHostPort(a)
				require.NoError(t, err)
				assert.Contains(t, slots, "\n"+host+"\n"+port+"\n", "CLUSTER SLOTS lists %s", a)
			}
		})
	}

	// Exactly one node owns a key; the others redirect to it.
	owner := -1
	for i, n := range nodes {
		_, err := n.Do(ctx, "SET", "greeting", "hello")
		var re storetest.ReplyError
		if errors.As(err, &re) {
			assert.True(t, strings.HasPrefix(string(re), "MOVED "), "reply %q", re)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, -1, owner, "two nodes accepted the key")
		owner = i
	}
	require.NotEqual(t, -1, owner, "no node accepted the key")
}

func TestClusterNodeRestart(t *testing.T) {
	t.Parallel()
	c := storetest.NewCluster(t, 3)
	ctx := t.Context()
	n := c.Nodes()[1]

	require.NoError(t, n.Kill())
	require.NoError(t, n.Restart(ctx))

	// The node comes back with its identity and slots from nodes.conf.
	require.Eventually(t, func() bool {
		info, err := n.Do(ctx, "CLUSTER", "INFO")
		return err == nil && strings.Contains(info, "cluster_state:ok\r\n") &&
			strings.Contains(info, "cluster_known_nodes:3\r\n")
	}, 10*time.Second, 50*time.Millisecond)
}

func TestClusterClose(t *testing.T) {
	t.Parallel()
	c, err := storetest.StartCluster(t.Context(), 2)
	require.NoError(t, err)
	assert.Len(t, c.Nodes(), 2)
	assert.Equal(t, "redis://"+c.Addrs()[0]+"?addr="+c.Addrs()[1], c.URL())

	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "Close is idempotent")
	for _, n := range c.Nodes() {
		_, err := n.Do(t.Context(), "PING")
		assert.ErrorIs(t, err, storetest.ErrClosed)
	}
}

func TestStartClusterBadSize(t *testing.T) {
	t.Parallel()
	_, err := storetest.StartCluster(t.Context(), 0)
	assert.Error(t, err)
}

func infoField(info, name string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// fatalTB records a Fatal instead of ending the test, to check what
// NewServer reports.
type fatalTB struct {
	testing.TB
	fatal bool
	msg   string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatal(args ...any) {
	f.fatal, f.msg = true, fmt.Sprint(args...)
	panic(f)
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.fatal, f.msg = true, fmt.Sprintf(format, args...)
	panic(f)
}

// runFatal runs fn, absorbing the panic by which fatalTB stops it, as
// runtime.Goexit would stop a real test.
func runFatal(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(*fatalTB); !ok {
				panic(r)
			}
		}
	}()
	fn()
}
