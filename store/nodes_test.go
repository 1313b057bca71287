package store

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A breaker can open at any time, also while the backend closes (a request
// failing as the client goes away) or after: the probe it would start must
// not be a goroutine that close no longer waits for, nor one whose
// WaitGroup.Add races close's Wait.
func TestNodeSetStartsNoProbeOnceClosed(t *testing.T) {
	cfg, err := Config{URL: "redis://127.0.0.1:1"}.withDefaults()
	require.NoError(t, err)
	s := newNodeSet(&redisBackend{}, cfg, "127.0.0.1:1")
	n := s.topo.Load().single
	s.close()

	s.opened(n)
	assert.False(t, n.probing.Load(), "a probe started after close")
}
