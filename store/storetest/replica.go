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
	if err := master.waitReplicasOnline(ctx, 1); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// waitReplicasOnline polls until the server reports n replicas in state
// online. A replica says its link is up as soon as it has loaded the
// initial copy, but the master streams writes to it only once the replica
// has acknowledged that copy, up to a second later; a master that dies
// before then takes with it every write the replica never saw.
func (s *Server) waitReplicasOnline(ctx context.Context, n int) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		info, err := s.Do(ctx, "INFO", "replication")
		if err == nil && strings.Count(info, "state=online") >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("storetest: %s does not stream to %d replicas: %w (last: %v)", s.addr, n, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
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
