package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTelemetryModes(t *testing.T) {
	for _, tc := range []struct {
		mode string
		on   bool
		bad  bool
	}{{"", false, false}, {"off", false, false}, {"stdout", true, false}, {"otlp", false, true}} {
		t.Run(tc.mode, func(t *testing.T) {
			_, err := parseConfig(nil, envOf(map[string]string{envOtel: tc.mode}), io.Discard)
			if tc.bad {
				require.ErrorIs(t, err, errUsage, "a mode the server does not know is refused at start")
				return
			}
			require.NoError(t, err)
			tel, err := newTelemetry(tc.mode, io.Discard)
			require.NoError(t, err)
			assert.Equal(t, tc.on, tel.on())
			require.NoError(t, tel.shutdown(context.Background()))
		})
	}
}

// span is the part of stdouttrace's JSON the test reads.
type span struct {
	Name        string
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ SpanID string }
	Attributes  []struct {
		Key   string
		Value struct{ Value any }
	}
}

func (s span) attr(key string) any {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.Value
		}
	}
	return nil
}

// spansIn decodes the spans among the JSON log records of out.
func spansIn(t *testing.T, out string) []span {
	t.Helper()
	var spans []span
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var raw json.RawMessage
		require.NoError(t, dec.Decode(&raw))
		var s span
		if json.Unmarshal(raw, &s) == nil && s.Name != "" {
			spans = append(spans, s)
		}
	}
	return spans
}

func TestRunWithTelemetry(t *testing.T) {
	p := startRun(t, map[string]string{envAdminToken: "in-process", envOtel: "stdout"})
	hash := p.uploadSample(t)
	var statuses []string
	for range 2 {
		resp := p.get(t, "/api/emg/analysis/"+hash)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		statuses = append(statuses, resp.Header.Get("Cache-Status"))
	}
	resp, err := p.client.Get("http://" + p.addr + metricsPath)
	require.NoError(t, err)
	metrics, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Contains(t, string(metrics), `emgcache_http_duration_seconds_count{emgcache_http_fwd="uri-miss",emgcache_http_outcome="miss",emgcache_route="analysis"`)
	assert.Contains(t, string(metrics), `emgcache_read_duration_seconds_count{`)

	// Shutdown flushed every span.
	spans := spansIn(t, p.stop(t))
	byID := map[string]span{}
	var caches []span
	for _, s := range spans {
		byID[s.SpanContext.SpanID] = s
		if s.Name == "emgcache.http" {
			caches = append(caches, s)
		}
	}
	require.Len(t, caches, 2, "statuses %v", statuses)
	for i, want := range []string{"miss", "hit"} {
		c := caches[i]
		assert.Equal(t, want, c.attr("emgcache.http.outcome"))
		server, ok := byID[c.Parent.SpanID]
		require.True(t, ok, "the cache's span has the server's as its parent")
		assert.Equal(t, "GET /api/emg/analysis/{file_hash}", server.Name)
	}
	var readsUnderMiss int
	for _, s := range spans {
		if s.Name == "emgcache.read" && s.Parent.SpanID == caches[0].SpanContext.SpanID {
			readsUnderMiss++
		}
	}
	assert.Positive(t, readsUnderMiss, "the miss's reads nest in the cache's span")
}
