package storetest

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrUnsupported is wrapped by the error of a fault that this redis-server
// does not allow, such as Crash on a server older than 7.0 or one whose
// DEBUG command is disabled.
var ErrUnsupported = errors.New("storetest: not supported by this server")

// crashTimeout bounds the wait for a crashed server to exit.
const crashTimeout = 10 * time.Second

// Crash makes the server crash with DEBUG SEGFAULT, the way a bug or a bad
// memory module takes a server down: it writes its crash report to the log
// and exits on a signal. Crash returns once the process is gone; Restart
// brings it back (a cluster node rejoins, as a replica if it was replaced).
// Servers started by this package allow DEBUG from loopback when the binary
// is 7.0 or newer; otherwise the error wraps ErrUnsupported.
func (s *Server) Crash(ctx context.Context) error {
	s.mu.Lock()
	p := s.proc
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if p == nil || p.exited() {
		return fmt.Errorf("storetest: crash redis-server on %s: not running", s.addr)
	}
	_, err := s.do(ctx, "DEBUG", "SEGFAULT")
	var re ReplyError
	if errors.As(err, &re) {
		return fmt.Errorf("storetest: crash redis-server on %s: %w: %v", s.addr, ErrUnsupported, re)
	}
	select {
	case <-p.done:
	case <-time.After(crashTimeout):
		return fmt.Errorf("storetest: crash redis-server on %s: still running after DEBUG SEGFAULT", s.addr)
	}
	s.mu.Lock()
	if s.proc == p {
		s.proc = nil
	}
	s.mu.Unlock()
	return nil
}

// PauseClients makes the server stop serving its clients for d with CLIENT
// PAUSE ALL, the way a server busy with something else behaves: connections
// stay open and commands queue up, and they are answered when the pause
// ends. Unlike Pause, the server still answers its replicas and, in a
// cluster, its peers, so no failover follows. PauseClients returns as soon
// as the pause has begun.
func (s *Server) PauseClients(ctx context.Context, d time.Duration) error {
	_, err := s.Do(ctx, "CLIENT", "PAUSE", strconv.FormatInt(d.Milliseconds(), 10), "ALL")
	return err
}

// Role returns the server's replication role as ROLE reports it: "master"
// or "slave" ("sentinel" for a Sentinel).
func (s *Server) Role(ctx context.Context) (string, error) {
	v, err := s.do(ctx, "ROLE")
	if err != nil {
		return "", err
	}
	a, ok := v.([]any)
	if !ok || len(a) == 0 {
		return "", fmt.Errorf("storetest: ROLE on %s: unexpected reply %v", s.addr, v)
	}
	role, _ := a[0].(string)
	return role, nil
}

// WaitRole polls until the server reports role (see Role), every 10 ms, and
// returns the time it first saw it; ctx bounds the wait.
func (s *Server) WaitRole(ctx context.Context, role string) (time.Time, error) {
	for {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		got, err := s.Role(pctx)
		cancel()
		if err == nil && got == role {
			return time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("storetest: %s did not become %s (last: %q, %v): %w", s.addr, role, got, err, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// debugArgs are the arguments that allow DEBUG from loopback connections,
// for Crash, on servers that have the setting (7.0 and newer).
func debugArgs(bin string) []string {
	if major, _ := serverVersion(bin); major >= 7 {
		return []string{"--enable-debug-command", "local"}
	}
	return nil
}

var versions sync.Map // binary path → major version

var versionRE = regexp.MustCompile(`v=(\d+)\.`)

// serverVersion returns the major version of a redis-server binary.
func serverVersion(bin string) (int, error) {
	if v, ok := versions.Load(bin); ok {
		return v.(int), nil
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("storetest: %s --version: %w", bin, err)
	}
	m := versionRE.FindStringSubmatch(string(out))
	if m == nil {
		return 0, fmt.Errorf("storetest: %s --version: unexpected output %q", bin, strings.TrimSpace(string(out)))
	}
	major, _ := strconv.Atoi(m[1])
	versions.Store(bin, major)
	return major, nil
}
