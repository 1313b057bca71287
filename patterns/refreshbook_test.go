package patterns

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRefreshBook(t *testing.T) {
	var b refreshBook
	now := time.Unix(1000, 0)
	assert.True(t, b.due("k", now, time.Minute), "an unknown key is looked at")
	assert.False(t, b.due("k", now, time.Minute), "and claimed: the next hit does not start a second refresh")
	assert.True(t, b.due("k", now.Add(time.Minute), time.Minute), "a claim that outlived its refresh expires")
	b.set("k", now.Add(time.Hour))
	assert.False(t, b.due("k", now.Add(59*time.Minute), time.Minute))
	assert.True(t, b.due("k", now.Add(time.Hour), time.Minute))
	b.forget("k")
	assert.Zero(t, b.len())

	b.set("hot", now.Add(time.Hour))
	for i := range maxRefreshKeys + 10 {
		b.set(strconv.Itoa(i), now.Add(time.Hour))
		if i%1000 == 0 {
			assert.False(t, b.due("hot", now, time.Minute), "a key read often stays in the book")
		}
	}
	assert.Equal(t, maxRefreshKeys, b.len(), "the book is bounded")
	assert.True(t, b.due("0", now, time.Minute), "the least recently used went first, not the whole book")
	assert.False(t, b.due("hot", now, time.Minute))
}
