package storetest_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store/storetest"
)

func TestServerCrash(t *testing.T) {
	t.Parallel()
	s := storetest.NewServer(t)
	ctx := t.Context()
	require.NoError(t, s.Crash(ctx))
	_, err := s.Do(ctx, "PING")
	require.Error(t, err, "a crashed server still answers")
	require.NoError(t, s.Restart(ctx))
	v, err := s.Do(ctx, "PING")
	require.NoError(t, err)
	assert.Equal(t, "PONG", v)
}

func TestServerPauseClients(t *testing.T) {
	t.Parallel()
	s := storetest.NewServer(t)
	ctx := t.Context()
	require.NoError(t, s.PauseClients(ctx, 1500*time.Millisecond))
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err := s.Do(short, "GET", "k")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	// Answered once the pause is over.
	_, err = s.Do(ctx, "SET", "k", "v")
	require.NoError(t, err)
}

func TestReplica(t *testing.T) {
	t.Parallel()
	m := storetest.NewServer(t, storetest.Options{Password: "secret"})
	r := storetest.NewReplica(t, m)
	ctx := t.Context()
	role, err := r.Role(ctx)
	require.NoError(t, err)
	assert.Equal(t, "slave", role)
	_, err = m.Do(ctx, "SET", "k", "v")
	require.NoError(t, err)
	require.NoError(t, m.WaitReplicated(ctx, 1))
	v, err := r.Do(ctx, "GET", "k")
	require.NoError(t, err)
	assert.Equal(t, "v", v)
}

func TestClusterWithReplicas(t *testing.T) {
	t.Parallel()
	c := storetest.NewClusterWith(t, storetest.ClusterOptions{Masters: 3, ReplicasPerMaster: 1, NodeTimeout: time.Second})
	ctx := t.Context()
	for i, m := range c.Nodes() {
		rs := c.Replicas(i)
		require.Len(t, rs, 1)
		role, err := rs[0].Role(ctx)
		require.NoError(t, err)
		assert.Equal(t, "slave", role, rs[0].Addr())
		role, err = m.Role(ctx)
		require.NoError(t, err)
		assert.Equal(t, "master", role, m.Addr())
		// On every master, whichever slots it owns, WaitReplicated finds a
		// marker key it may write.
		require.NoError(t, m.WaitReplicated(ctx, 1), m.Addr())
	}
	for _, key := range []string{"foo", "emgcache:k", "{user1000}.following", "a{}b", "0123456789abcdef"} {
		t.Run("keyslot/"+key, func(t *testing.T) {
			want, err := c.Nodes()[0].Do(ctx, "CLUSTER", "KEYSLOT", key)
			require.NoError(t, err)
			assert.Equal(t, want, strconv.Itoa(storetest.KeySlot(key)))
		})
	}
	owner, err := c.Owner(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, c.Nodes()[0], owner)

	// A manual failover hands slot 0 to the replica.
	r := c.Replicas(0)[0]
	_, err = r.Do(ctx, "CLUSTER", "FAILOVER")
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = r.WaitRole(wctx, "master")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		owner, err := c.Owner(ctx, 0)
		return err == nil && owner == r
	}, 10*time.Second, 20*time.Millisecond, fmt.Sprintf("slot 0 still not served by %s", r.Addr()))
}
