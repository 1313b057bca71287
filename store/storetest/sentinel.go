package storetest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sentinelOf names the master a Sentinel process watches.
type sentinelOf struct {
	name   string
	master *Server
}

// sentinelArgs is the command line of a Sentinel: a config file it may
// rewrite (Sentinel insists on one) and the same port and directory rules as
// a data server.
func (s *Server) sentinelArgs() []string {
	conf := filepath.Join(s.dir, "sentinel.conf")
	if _, err := os.Stat(conf); err != nil {
		host, port, _ := strings.Cut(s.sentinel.master.Addr(), ":")
		body := fmt.Sprintf("sentinel monitor %s %s %s 1\nsentinel down-after-milliseconds %s 1000\n",
			s.sentinel.name, host, port, s.sentinel.name)
		if pw := s.sentinel.master.opts.Password; pw != "" {
			body += fmt.Sprintf("sentinel auth-pass %s %s\n", s.sentinel.name, pw)
		}
		_ = os.WriteFile(conf, []byte(body), 0o600)
	}
	return []string{conf, "--sentinel",
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--daemonize", "no",
	}
}

// Sentinel is a redis-server in Sentinel mode watching one master.
type Sentinel struct {
	*Server
	name string
}

// StartSentinel starts a Sentinel on a free loopback port that monitors
// master under name, and returns once it knows the master's address. The
// caller must Close it; tests should use NewSentinel.
func StartSentinel(ctx context.Context, master *Server, name string) (*Sentinel, error) {
	if name == "" || strings.ContainsAny(name, " \n\r") {
		return nil, fmt.Errorf("storetest: sentinel master name %q is empty or has white space", name)
	}
	srv, err := startWith(ctx, Options{}, false, &sentinelOf{name: name, master: master})
	if err != nil {
		return nil, err
	}
	s := &Sentinel{Server: srv, name: name}
	deadline := time.Now().Add(startTimeout)
	for {
		v, err := s.Do(ctx, "SENTINEL", "get-master-addr-by-name", name)
		if err == nil && strings.Replace(v, "\n", ":", 1) == master.Addr() {
			return s, nil
		}
		if time.Now().After(deadline) {
			_ = srv.Close()
			return nil, fmt.Errorf("storetest: sentinel on %s does not know master %q (last answer %q, %v)", srv.Addr(), name, v, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// NewSentinel starts a Sentinel like StartSentinel and closes it at the end
// of the test.
func NewSentinel(tb testing.TB, master *Server, name string) *Sentinel {
	tb.Helper()
	s, err := StartSentinel(tb.Context(), master, name)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cleanup(tb, s.Server) })
	return s
}

// URL returns the address of the Sentinel with the master set, in the form
// rueidis.ParseURL reads: redis://127.0.0.1:port/0?master_set=name. The
// master's password, if any, is included for the data connection.
func (s *Sentinel) URL() string {
	u := url.URL{Scheme: "redis", Host: s.Addr(), Path: "/0", RawQuery: url.Values{"master_set": {s.name}}.Encode()}
	if pw := s.sentinel.master.opts.Password; pw != "" {
		u.User = url.UserPassword("", pw)
	}
	return u.String()
}

// MasterAddr returns the address the Sentinel gives for its master now,
// "127.0.0.1:port"; after a failover it is the promoted replica's.
func (s *Sentinel) MasterAddr(ctx context.Context) (string, error) {
	v, err := s.Do(ctx, "SENTINEL", "get-master-addr-by-name", s.name)
	if err != nil {
		return "", err
	}
	return strings.Replace(v, "\n", ":", 1), nil
}

// WaitReplicas polls until the Sentinel knows n replicas of its master that
// it does not consider down, which is when it can fail over to one of them.
// A Sentinel learns of replicas from its master's INFO, so this takes up to
// a second after start. ctx bounds the wait.
func (s *Sentinel) WaitReplicas(ctx context.Context, n int) error {
	for {
		v, err := s.do(ctx, "SENTINEL", "replicas", s.name)
		ok := 0
		if err == nil {
			list, _ := v.([]any)
			for _, r := range list {
				if flags := fieldOf(r, "flags"); flags != "" && !strings.Contains(flags, "down") && !strings.Contains(flags, "disconnected") {
					ok++
				}
			}
			if ok >= n {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("storetest: sentinel on %s knows %d of %d replicas: %w (last: %v)", s.Addr(), ok, n, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// fieldOf reads a field of a flat name/value array reply (RESP2) or a map
// reply (RESP3).
func fieldOf(v any, name string) string {
	switch r := v.(type) {
	case []any:
		for i := 0; i+1 < len(r); i += 2 {
			if k, _ := r[i].(string); k == name {
				s, _ := r[i+1].(string)
				return s
			}
		}
	case map[string]any:
		s, _ := r[name].(string)
		return s
	}
	return ""
}
