package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFailureLogIsRateLimitedPerOperation(t *testing.T) {
	var buf bytes.Buffer
	l := newFailureLog(slog.New(slog.NewJSONHandler(&buf, nil)))
	now := time.Unix(1000, 0)
	l.rl.Now = func() time.Time { return now }
	records := func() []map[string]any {
		var out []map[string]any
		for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var r map[string]any
			require.NoError(t, json.Unmarshal(line, &r))
			out = append(out, r)
		}
		return out
	}
	fail := errors.New("get \"k\": store: backend unavailable: dial tcp: refused")

	for range 5 {
		l.failed("get", fail)
	}
	l.failed("set", fail)
	got := records()
	require.Len(t, got, 2, "one record per operation within the interval")
	assert.Equal(t, "get", got[0]["op"])
	assert.Equal(t, "WARN", got[0]["level"])
	assert.Equal(t, fail.Error(), got[0]["error"])
	assert.Equal(t, float64(0), got[0]["suppressed"])
	assert.Equal(t, "set", got[1]["op"])

	now = now.Add(FailureLogInterval - time.Second)
	l.failed("get", fail)
	require.Len(t, records(), 2)
	now = now.Add(time.Second)
	l.failed("get", fail)
	got = records()
	require.Len(t, got, 3)
	assert.Equal(t, float64(5), got[2]["suppressed"], "the four left out before and the one just before the interval ended")

	var none *failureLog // without a Logger
	none.failed("get", fail)
	assert.Nil(t, newFailureLog(nil))
}
