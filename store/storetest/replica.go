package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// StartReplica starts a server that replicates master (--replicaof, with
// master's password if it has one) and returns once its link to master is
// up and the initial copy is done. ctx bounds only the start. The caller
// must Close it; tests should use NewReplica.
func StartReplica(ctx context.Context, master *Server) (*Server, error) {
	s, err := startServer(ctx, &Server{opts: Options{Password: master.opts.Password}, replicaOf: master}, false)
	if err != nil {
		return nil, err
	}
	if err := s.waitLinked(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// NewReplica starts a replica of master like StartReplica and closes it at
// the end of the test.
func NewReplica(tb testing.TB, master *Server) *Server {
	tb.Helper()
	s, err := StartReplica(tb.Context(), master)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cleanup(tb, s) })
	return s
}

// waitLinked polls until the server is a replica whose link to its master
// is up and whose initial synchronisation has finished.
func (s *Server) waitLinked(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		info, err := s.Do(ctx, "INFO", "replication")
		if err == nil && strings.Contains(info, "master_link_status:up") && strings.Contains(info, "master_sync_in_progress:0") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("storetest: replica on %s did not link to its master: %w (last: %v)", s.addr, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
