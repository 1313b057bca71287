package storetest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvRedisServer names the environment variable that selects the
// redis-server binary, for machines where it is not on PATH.
const EnvRedisServer = "EMGCACHE_REDIS_SERVER"

// ErrNoRedisServer is wrapped by the error of Start and StartCluster when no
// usable redis-server binary is found.
var ErrNoRedisServer = errors.New("redis-server not found")

// ErrClosed is returned by the methods of a Server after Close.
var ErrClosed = errors.New("storetest: server closed")

const (
	// startTimeout bounds the wait for a new process to answer, when the
	// caller's context allows longer: a server that is not up by then is
	// broken, and tests should say so rather than hang.
	startTimeout = 10 * time.Second
	// doTimeout bounds Do when its context has no deadline, so that a
	// command to a paused server cannot hang a test forever.
	doTimeout = 5 * time.Second
	// stopTimeout is how long Stop lets the server shut down before killing
	// it.
	stopTimeout = 10 * time.Second
	// portAttempts is how many free ports Start tries: a port found free can
	// be taken by someone else before the server binds it.
	portAttempts = 5
	// reservedPort is the default Redis port. A shared server may run there,
	// so no test may ever talk to it by accident.
	reservedPort = 6379
	logName      = "redis-server.log"
)

// errPortInUse marks a start that failed only because the port was taken,
// which Start answers by trying another port.
var errPortInUse = errors.New("port in use")

// Options configure a Server. The zero value is a plain server without
// authentication.
type Options struct {
	// Args are extra redis-server arguments, such as
	// {"--maxmemory", "1mb"}. They come after the defaults, so they can
	// override --maxmemory, --maxmemory-policy, --save or --appendonly, but
	// must not change --port, --bind, --dir or --daemonize, which the Server
	// depends on.
	Args []string
	// Password, when set, is required from clients (--requirepass). Do
	// authenticates with it and URL includes it. Set it here rather than
	// through Args, or the Server cannot check that its process is up.
	Password string
}

// Server is a redis-server process listening on a loopback port. Its address
// stays the same for its whole life, across Kill, Stop and Restart, so that
// a client under test can reconnect to it. Its methods are safe for
// concurrent use.
type Server struct {
	bin     string
	opts    Options
	dir     string
	port    int
	busPort int // cluster bus port; 0 unless a cluster node
	// nodeTimeout is the cluster-node-timeout of a cluster node.
	nodeTimeout time.Duration
	// replicaOf, when set, makes this server a replica of that one.
	replicaOf *Server
	addr      string
	// sentinel, when set, makes this process a Sentinel watching the
	// named master.
	sentinel *sentinelOf

	mu     sync.Mutex
	proc   *process // nil when no process runs
	closed bool
}

// process is one run of redis-server; done is closed once it has exited and
// been reaped, which is when its port is free again.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // exit status, valid after done
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill kills the process and waits for it, so that the port is released
// when kill returns.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Start starts a redis-server on a free loopback port and returns once it
// answers commands. The server listens on 127.0.0.1 only, keeps no data on
// disk, and is limited to 256 MB with allkeys-lru eviction, unless opts.Args
// override that. ctx bounds only the start, together with an internal limit
// of 10 s; it does not stop the server later.
//
// The caller must Close the server; tests should use NewServer instead. The
// error wraps ErrNoRedisServer when no binary is found, and otherwise
// includes the end of the server's log.
func Start(ctx context.Context, opts Options) (*Server, error) {
	return start(ctx, opts, false)
}

// NewServer starts a server like Start and registers a cleanup that closes it
// at the end of the test. opts may be omitted; more than one Options fails
// the test. A server that cannot start fails the test (it is not skipped).
// If the test has failed by the time of the cleanup, the end of the server's
// log is added to the test output.
func NewServer(tb testing.TB, opts ...Options) *Server {
	tb.Helper()
	if len(opts) > 1 {
		tb.Fatalf("storetest: NewServer takes at most one Options, got %d", len(opts))
	}
	var o Options
	if len(opts) == 1 {
		o = opts[0]
	}
	s, err := Start(tb.Context(), o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cleanup(tb, s) })
	return s
}

func cleanup(tb testing.TB, s *Server) {
	if tb.Failed() {
		tb.Logf("storetest: log of redis-server on %s:\n%s", s.addr, s.logTail())
	}
	if err := s.Close(); err != nil {
		tb.Errorf("storetest: close redis-server on %s: %v", s.addr, err)
	}
}

func start(ctx context.Context, opts Options, cluster bool) (*Server, error) {
	return startWith(ctx, opts, cluster, nil)
}

func startWith(ctx context.Context, opts Options, cluster bool, sentinel *sentinelOf) (*Server, error) {
	return startServer(ctx, &Server{opts: opts, sentinel: sentinel}, cluster)
}

// startServer starts s, whose opts, sentinel, replicaOf and nodeTimeout are
// set, on a free port.
func startServer(ctx context.Context, s *Server, cluster bool) (*Server, error) {
	opts := s.opts
	bin, err := findRedisServer()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "storetest-redis-")
	if err != nil {
		return nil, fmt.Errorf("storetest: create server directory: %w", err)
	}
	s.bin, s.dir = bin, dir
	s.opts.Args = append([]string(nil), opts.Args...)
	for range portAttempts {
		ports, perr := freePorts(1 + btoi(cluster))
		if perr != nil {
			err = perr
			break
		}
		s.port = ports[0]
		if cluster {
			s.busPort = ports[1]
		}
		s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
		s.mu.Lock()
		err = s.launch(ctx, true)
		s.mu.Unlock()
		if !errors.Is(err, errPortInUse) {
			break
		}
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// findRedisServer looks for the binary the way the Makefile does, so that
// `make redis-server` fixes whatever this reports.
func findRedisServer() (string, error) {
	if p := os.Getenv(EnvRedisServer); p != "" {
		// An explicit choice that does not work is an error, not a hint to
		// look elsewhere: the caller would test a binary they did not pick.
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("storetest: %w: $%s=%q is not an executable file; fix or unset it, or run `make redis-server`",
			ErrNoRedisServer, EnvRedisServer, p)
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server"} {
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("storetest: %w in $%s, PATH, /usr/bin or /usr/local/bin: run `make redis-server` or `apt-get install redis-server`, or set $%s",
		ErrNoRedisServer, EnvRedisServer, EnvRedisServer)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// freePorts asks the kernel for n distinct free loopback ports. They are
// only free at this instant; a server that then fails to bind is retried on
// new ones.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	// Holding every listener until all are found keeps the ports distinct.
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("storetest: find a free port: %w", err)
		}
		listeners = append(listeners, l)
		p := l.Addr().(*net.TCPAddr).Port
		// The cluster bus of a server on the reserved port is 10000 above.
		if p == reservedPort || p == reservedPort+10000 {
			continue
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// args are the command line of every run, so that Restart starts exactly
// the server that Start did.
func (s *Server) args() []string {
	if s.sentinel != nil {
		return s.sentinelArgs()
	}
	a := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--maxmemory", "256mb",
		"--maxmemory-policy", "allkeys-lru",
		"--daemonize", "no",
		// A replica's first copy starts at once instead of waiting 5 s
		// for more replicas to share it.
		"--repl-diskless-sync-delay", "0",
	}
	a = append(a, debugArgs(s.bin)...)
	if s.busPort != 0 {
		// An explicit bus port, instead of the default port+10000, because a
		// free port above 55535 has no room for one.
		timeout := s.nodeTimeout
		if timeout <= 0 {
			timeout = defaultNodeTimeout
		}
		a = append(a,
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(s.dir, "nodes.conf"),
			"--cluster-node-timeout", strconv.FormatInt(timeout.Milliseconds(), 10),
			"--cluster-port", strconv.Itoa(s.busPort),
		)
	}
	if m := s.replicaOf; m != nil {
		host, port, _ := net.SplitHostPort(m.addr)
		a = append(a, "--replicaof", host, port)
		if m.opts.Password != "" {
			a = append(a, "--masterauth", m.opts.Password)
		}
	}
	if s.opts.Password != "" {
		a = append(a, "--requirepass", s.opts.Password)
	}
	return append(a, s.opts.Args...)
}

func (s *Server) logPath() string { return filepath.Join(s.dir, logName) }

// launch runs a new process and waits until it answers. fresh starts a new
// log; Restart appends to it, so that the log tells the whole story. The
// caller holds s.mu.
func (s *Server) launch(ctx context.Context, fresh bool) error {
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if fresh {
		flags |= os.O_TRUNC
	}
	logf, err := os.OpenFile(s.logPath(), flags, 0o600)
	if err != nil {
		return fmt.Errorf("storetest: open server log: %w", err)
	}
	var logStart int64
	if fi, err := logf.Stat(); err == nil {
		logStart = fi.Size()
	}
	cmd := exec.Command(s.bin, s.args()...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	err = cmd.Start()
	_ = logf.Close() // the child has its own descriptor
	if err != nil {
		return fmt.Errorf("storetest: run %s: %w", s.bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := s.waitReady(ctx, p, logStart); err != nil {
		p.kill()
		return err
	}
	s.proc = p
	return nil
}

// waitReady polls until the process answers on its port. It checks the
// process id the server reports, because a port found free may since have
// been taken by another server, and tests must never talk to that one.
// logStart is where this run's part of the log begins.
func (s *Server) waitReady(ctx context.Context, p *process, logStart int64) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	pid := p.cmd.Process.Pid
	for {
		if p.exited() {
			tail := s.logTail()
			if s.logSince(logStart, "Address already in use") {
				return fmt.Errorf("storetest: start redis-server on %s: %w; end of its log:\n%s", s.addr, errPortInUse, tail)
			}
			return fmt.Errorf("storetest: redis-server on %s exited during start (%v); end of its log:\n%s", s.addr, p.err, tail)
		}
		ready, err := s.probe(ctx, pid)
		if err != nil {
			return err
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("storetest: redis-server on %s did not answer: %w; end of its log:\n%s", s.addr, ctx.Err(), s.logTail())
		case <-p.done:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (s *Server) probe(ctx context.Context, pid int) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	v, err := s.do(ctx, "INFO", "server")
	var re ReplyError
	switch {
	case errors.As(err, &re):
		// The server answers but will not tell its process id (it is
		// loading, or INFO is renamed or forbidden by Args). Loading means
		// not yet ready; otherwise trust that it is ours, as a foreign
		// server on our port would have made ours exit.
		return !strings.HasPrefix(string(re), "LOADING"), nil
	case err != nil:
		return false, nil
	}
	info, _ := v.(string)
	if !strings.Contains(info, "\nprocess_id:"+strconv.Itoa(pid)+"\r") {
		return false, fmt.Errorf("storetest: another server answers on %s: %w", s.addr, errPortInUse)
	}
	return true, nil
}

// logSince reports whether the log contains text after offset, so that a
// failure of an earlier run does not explain this one.
func (s *Server) logSince(offset int64, text string) bool {
	b, err := os.ReadFile(s.logPath())
	if err != nil || int64(len(b)) < offset {
		return false
	}
	return strings.Contains(string(b[offset:]), text)
}

// logTail returns the last lines of the server's log, which is where
// redis-server explains why it failed.
func (s *Server) logTail() string {
	const maxLines, maxBytes = 20, 4096
	b, err := os.ReadFile(s.logPath())
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	if len(b) > maxBytes {
		b = b[len(b)-maxBytes:]
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
	}
	return strings.Join(lines, "\n")
}

// Addr returns the server's address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr }

// URL returns a redis:// URL for the server's database 0, with the password
// if Options.Password is set, in the form the rueidis and go-redis URL
// parsers accept.
func (s *Server) URL() string {
	u := url.URL{Scheme: "redis", Host: s.addr, Path: "/0"}
	if s.opts.Password != "" {
		u.User = url.UserPassword("", s.opts.Password)
	}
	return u.String()
}

// Kill kills the server with SIGKILL and returns once it is gone, the way a
// crashed or unplugged server disappears: connections reset and its data is
// lost. The address stays reserved for Restart. Killing a server that is not
// running does nothing.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.proc != nil {
		s.proc.kill()
		s.proc = nil
	}
	return nil
}

// Stop shuts the server down with SIGTERM, as an orderly restart by an
// operator would, and returns once it has exited. A server that takes longer
// than 10 s is killed. Stopping a server that is not running does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	p := s.proc
	if p == nil {
		return nil
	}
	s.proc = nil
	_ = p.cmd.Process.Signal(termSignal)
	if contSignal != nil {
		// A paused server would not act on SIGTERM until continued.
		_ = p.cmd.Process.Signal(contSignal)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
		p.kill()
		return fmt.Errorf("storetest: redis-server on %s ignored SIGTERM for %v and was killed", s.addr, stopTimeout)
	}
}

// Pause stops the server with SIGSTOP, the way a stalled or partitioned
// server behaves: connections stay open and new ones are accepted by the
// kernel, but nothing is answered until Resume. Pause returns once the
// process is stopped.
func (s *Server) Pause() error {
	return s.signal("pause", stopSignal, true)
}

// Resume continues a server stopped by Pause with SIGCONT; it then answers
// the commands that queued up meanwhile.
func (s *Server) Resume() error {
	return s.signal("resume", contSignal, false)
}

func (s *Server) signal(op string, sig os.Signal, wait bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.proc == nil || s.proc.exited() {
		return fmt.Errorf("storetest: %s redis-server on %s: not running", op, s.addr)
	}
	if sig == nil {
		return fmt.Errorf("storetest: %s redis-server on %s: not supported on this system", op, s.addr)
	}
	if err := s.proc.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("storetest: %s redis-server on %s: %w", op, s.addr, err)
	}
	if wait {
		if err := waitStopped(s.proc.cmd.Process.Pid, time.Second); err != nil {
			return fmt.Errorf("storetest: %s redis-server on %s: %w", op, s.addr, err)
		}
	}
	return nil
}

// Restart starts the server again on the same address, with the same
// options, and returns once it answers. A server that is still running (or
// paused) is killed first. The data set starts empty, since nothing is
// persisted; a cluster node keeps its identity and slots, which it stores in
// its directory.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.proc != nil {
		s.proc.kill()
		s.proc = nil
	}
	var err error
	// The port was ours a moment ago, so a conflict is most likely a
	// short-lived socket of the old process; give it a few tries.
	for range 3 {
		if err = s.launch(ctx, false); !errors.Is(err, errPortInUse) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
	return err
}

// Close kills the server, waits for it to exit and removes its directory
// with the log. It is idempotent: later calls return nil.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.proc != nil {
		s.proc.kill()
		s.proc = nil
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("storetest: remove server directory: %w", err)
	}
	return nil
}

// Do sends one command on a new connection, which it closes afterwards, and
// returns the reply as text: simple and bulk strings as they are, integers
// in decimal, and arrays flattened to one element per line. It lets a test
// act as another client (SET behind the cache's back, CLIENT KILL, INFO,
// DBSIZE) without the client library under test.
//
// A nil reply returns ErrNil, and an error reply an error wrapping a
// ReplyError. Do authenticates first when Options.Password is set. It gives
// up when ctx is done, or after 5 s if ctx has no deadline, so a command to
// a paused server fails instead of hanging; the error then wraps the
// context's error.
func (s *Server) Do(ctx context.Context, args ...string) (string, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return "", ErrClosed
	}
	v, err := s.do(ctx, args...)
	if err != nil {
		return "", err
	}
	if v == nil {
		return "", ErrNil
	}
	return render(v), nil
}

// do is Do without the rendering, for callers that need the reply's
// structure. An error reply is returned as an error.
func (s *Server) do(ctx context.Context, args ...string) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("storetest: do: no command")
	}
	var v any
	err := s.session(ctx, strings.ToUpper(args[0]), func(cmd func(args ...string) (any, error)) error {
		var err error
		v, err = cmd(args...)
		return err
	})
	return v, err
}

// session runs fn with one connection to s, authenticated: cmd sends one
// command on it and returns the reply, an error reply as an error wrapping
// a ReplyError. The connection is closed when fn returns, and ctx bounds
// the whole session (5 s if ctx has no deadline). what names the session's
// purpose in the errors of the dial and of AUTH.
func (s *Server) session(ctx context.Context, what string, fn func(cmd func(args ...string) (any, error)) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, doTimeout)
		defer cancel()
	}
	fail := func(name string, err error) error {
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w (%v)", cerr, err)
		}
		return fmt.Errorf("storetest: %s on %s: %w", name, s.addr, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return fail(what, err)
	}
	defer conn.Close()
	// The context, not a fixed deadline, decides when to give up: expiring
	// it or cancelling it unblocks any read or write at once.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
	if s.opts.Password != "" {
		v, err := roundTrip(r, w, []string{"AUTH", s.opts.Password})
		if err != nil {
			return fail(what, fmt.Errorf("auth: %w", err))
		}
		if re, ok := v.(ReplyError); ok {
			return fail(what, fmt.Errorf("auth: %w", re))
		}
	}
	return fn(func(args ...string) (any, error) {
		if len(args) == 0 {
			return nil, errors.New("storetest: do: no command")
		}
		name := strings.ToUpper(args[0])
		v, err := roundTrip(r, w, args)
		if err != nil {
			return nil, fail(name, err)
		}
		if re, ok := v.(ReplyError); ok {
			return nil, fail(name, re)
		}
		return v, nil
	})
}

// WaitReplicated waits until at least replicas of s's replicas have every
// write s accepted before the call, or until ctx is done (5 s if it has no
// deadline). WAIT sent with Do does not do that: it waits for the writes
// of its own connection, and Do's connection made none, so it returns at
// once. WaitReplicated writes a marker key on one connection (one of the
// node's own slots in a cluster; it expires after a second) and WAITs for
// it there: the replication stream is in order, so the marker's
// acknowledgement covers every write before it.
func (s *Server) WaitReplicated(ctx context.Context, replicas int) error {
	return s.session(ctx, "WAIT", func(cmd func(args ...string) (any, error)) error {
		written := false
		for i := 0; !written; i++ {
			_, err := cmd("SET", "storetest:replicated:{"+strconv.Itoa(i)+"}", "1", "PX", "1000")
			var re ReplyError
			switch {
			case err == nil:
				written = true
			case errors.As(err, &re) && strings.HasPrefix(string(re), "MOVED ") && i < 1000:
				// Another node's slot: try another key.
			default:
				return err
			}
		}
		v, err := cmd("WAIT", strconv.Itoa(replicas), "0")
		if err != nil {
			return err
		}
		if n, _ := v.(int64); n < int64(replicas) {
			return fmt.Errorf("storetest: WAIT on %s: %d of %d replicas acknowledged", s.addr, n, replicas)
		}
		return nil
	})
}

func roundTrip(r *bufio.Reader, w *bufio.Writer, args []string) (any, error) {
	if err := writeCommand(w, args); err != nil {
		return nil, fmt.Errorf("send: %w", err)
	}
	return readReply(r)
}
