package store

import (
	"context"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLocalCacheWritePoisonsFlight replays, call by call, the order in
// which rueidis drives a connection's store when a write lands while a
// read of the same key is in flight: the read's reply may predate the
// write, so it must be neither stored nor handed to a read that started
// after the write.
func TestLocalCacheWritePoisonsFlight(t *testing.T) {
	l := newLocalCache(1<<20, nil)
	now := time.Now()
	_, before := l.Flight("k", "GET", time.Minute, now)
	require.Nil(t, before, "the first read sends a GET")
	_, joined := l.Flight("k", "GET", time.Minute, now)
	require.NotNil(t, joined, "a concurrent read joins it")

	l.forget("k") // the write's reply is in

	_, after := l.Flight("k", "GET", time.Minute, now)
	require.Nil(t, after, "a read after the write must not join the flight sent before it")

	l.Update("k", "GET", rueidis.RedisMessage{}) // the reply to the GET sent before the write
	_, err := joined.Wait(context.Background())
	require.NoError(t, err, "the reads that joined before the write get its reply")
	assert.Equal(t, 0, l.len(), "a reply that may predate the write is not stored")

	l.Update("k", "GET", rueidis.RedisMessage{}) // the post-write read's own reply
	assert.Equal(t, 0, l.len(), "a read sent on its own has no flight to store it")
	_, fresh := l.Flight("k", "GET", time.Minute, now)
	require.Nil(t, fresh)
	l.Update("k", "GET", rueidis.RedisMessage{})
	assert.Equal(t, 1, l.len(), "once every earlier reply is in, the key is cached again")
	assert.Empty(t, l.dirty, "and nothing is left to track")
}

// TestLocalCacheCancelledReplyNotShared covers a read given up by its
// caller (rueidis cancels its flight) whose reply still arrives later: a
// write in between makes that reply old, so it must not complete a flight
// started after the write.
func TestLocalCacheCancelledReplyNotShared(t *testing.T) {
	l := newLocalCache(1<<20, nil)
	now := time.Now()
	_, e := l.Flight("k", "GET", time.Minute, now)
	require.Nil(t, e)
	l.Cancel("k", "GET", context.DeadlineExceeded)
	l.forget("k")
	_, e = l.Flight("k", "GET", time.Minute, now)
	require.Nil(t, e, "sent on its own")
	_, e = l.Flight("k", "GET", time.Minute, now)
	assert.Nil(t, e, "not joined either: the next reply may be the cancelled one's")
	l.Update("k", "GET", rueidis.RedisMessage{}) // the cancelled read's late reply
	assert.Equal(t, 0, l.len(), "an old reply is not stored")
}

func TestLocalCacheDirtyBounded(t *testing.T) {
	l := newLocalCache(1<<20, nil)
	now := time.Now()
	_, _ = l.Flight("k", "GET", time.Minute, now)
	l.forget("k")
	// The reply never comes (Redis aborted the request): after dirtyHold
	// the key is cached again instead of being slowed down for good.
	_, e := l.Flight("k", "GET", time.Minute, now.Add(dirtyHold+time.Second))
	require.Nil(t, e)
	_, e = l.Flight("k", "GET", time.Minute, now.Add(dirtyHold+time.Second))
	assert.NotNil(t, e, "a flight again")
}
