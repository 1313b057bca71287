package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store/storetest"
)

const generatedTokenMsg = "CACHE_ADMIN_TOKEN is not set; generated an admin token for this run"

// TestServerEmbeddedIntegration walks the workflow against the server
// binary with the embedded cache and the admin token it generates itself.
func TestServerEmbeddedIntegration(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	rec := s.waitLog(t, generatedTokenMsg)
	token, _ := rec["admin_token"].(string)
	require.Regexp(t, `^[0-9a-f]{64}$`, token, "the generated token is 32 random bytes in hex")
	waitHealth(t, s, http.StatusOK)

	w := &workflow{s: s, token: token}
	w.run(t)
	t.Run("shutdown lets the request in flight finish", func(t *testing.T) {
		shutdownDuringUpload(t, s)
	})
}

// TestServerRedisIntegration walks the workflow against the server binary
// caching in a Redis of its own, then kills that Redis and checks that
// every endpoint still answers, and that the cache is used again once
// Redis is back.
func TestServerRedisIntegration(t *testing.T) {
	t.Parallel()
	redis := storetest.NewServer(t)
	const token = "admin-token-of-the-redis-integration-test"
	s := startServer(t, "REDIS_URL="+redis.URL(), envAdminToken+"="+token)
	waitHealth(t, s, http.StatusOK)
	_, generated := s.findLog(generatedTokenMsg)
	require.False(t, generated, "a token was generated although %s is set", envAdminToken)
	_, down := s.findLog("cache unavailable at start; serving from the database until it answers")
	require.False(t, down, "Redis was up at start")

	w := &workflow{s: s, token: token}
	w.run(t)

	t.Run("keys in Redis", func(t *testing.T) {
		keys, err := redis.Do(t.Context(), "KEYS", "*")
		require.NoError(t, err)
		assert.Contains(t, keys, "emgcache:emg_metadata:"+w.sampleHash)
		assert.Contains(t, keys, "emgcache:emg_analysis:"+w.sampleHash+":")
		assert.Contains(t, keys, "emgcache:user_prefs:")
		assert.NotContains(t, keys, "alice", "a user id must not appear in a key")
	})

	t.Run("Redis killed", func(t *testing.T) {
		require.NoError(t, redis.Kill())
		waitHealth(t, s, http.StatusServiceUnavailable)

		body := csvRecording("down", 2, 1000)
		hash := sha256Hex(body)
		require.Equal(t, http.StatusCreated, s.upload(t, "?sample_rate=1000", body).status)
		assert.Equal(t, http.StatusOK, s.get(t, "/api/emg/files/"+hash).status)
		assert.Equal(t, http.StatusOK, s.get(t, "/api/emg/files/"+w.sampleHash).status)
		for range 2 {
			a := s.get(t, "/api/emg/analysis/"+hash)
			require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)
			cs := a.header.Get("Cache-Status")
			assert.Contains(t, cs, "fwd=miss", "the store could not be read")
			assert.NotContains(t, cs, "stored")
		}
		a := s.get(t, "/api/emg/analysis/"+w.sampleHash)
		require.Equal(t, http.StatusOK, a.status)
		assert.Equal(t, string(w.sampleAnalysis), string(a.body), "computed again, the same analysis")

		put := s.do(t, http.MethodPut, "/api/users/"+url.PathEscape(w.user)+"/preferences", strings.NewReader(`{"theme":"while-down"}`))
		require.Equal(t, http.StatusOK, put.status, "body: %s", put.body)
		got := s.get(t, "/api/users/"+url.PathEscape(w.user)+"/preferences")
		require.Equal(t, http.StatusOK, got.status)
		assert.JSONEq(t, `{"theme":"while-down"}`, string(got.body))

		st := stats(t, s)
		assert.False(t, st.Healthy)
		s.waitLog(t, "cache failure absorbed; serving from the database")
	})

	t.Run("Redis back", func(t *testing.T) {
		require.NoError(t, redis.Restart(t.Context()))
		waitHealth(t, s, http.StatusOK)

		got := s.get(t, "/api/users/"+url.PathEscape(w.user)+"/preferences")
		require.Equal(t, http.StatusOK, got.status)
		assert.JSONEq(t, `{"theme":"while-down"}`, string(got.body), "written while Redis was down")

		// The breaker lets traffic through again one probe at a time, so
		// the first requests after the restart may still bypass the cache.
		path := "/api/emg/analysis/" + w.sampleHash
		deadline := time.Now().Add(waitLimit)
		for {
			a := s.get(t, path)
			require.Equal(t, http.StatusOK, a.status)
			if strings.Contains(a.header.Get("Cache-Status"), "; hit") {
				assert.Equal(t, string(w.sampleAnalysis), string(a.body))
				break
			}
			require.True(t, time.Now().Before(deadline), "no cache hit within %v of Redis' restart", waitLimit)
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("shutdown lets the request in flight finish", func(t *testing.T) {
		shutdownDuringUpload(t, s)
	})
	assert.NotContains(t, s.logText(), token, "a configured admin token is never logged")
}

// workflow is the walk both integration tests share, and what it leaves
// behind for the checks that follow it.
type workflow struct {
	s     *serverProcess
	token string

	sampleHash     string
	sampleMeta     []byte
	sampleAnalysis []byte
	user           string
}

func (w *workflow) run(t *testing.T) {
	s := w.s
	sample, err := os.ReadFile("testdata/sample_emg.csv")
	require.NoError(t, err)
	w.sampleHash = sha256Hex(sample)
	w.user = "alice@example.com"

	t.Run("upload", func(t *testing.T) {
		r := s.upload(t, "?sample_rate=2000", sample)
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		meta := r.object(t)
		assert.Equal(t, w.sampleHash, meta["file_hash"], "the hash is the SHA-256 of the bytes")
		assert.Equal(t, "csv", meta["format"])
		assert.Equal(t, []any{"biceps_l", "biceps_r", "triceps_l", "triceps_r"}, meta["channels"])
		assert.InDelta(t, 2000, meta["sample_rate"], 0)
		assert.InDelta(t, 4000, meta["samples"], 0)
		assert.InDelta(t, len(sample), meta["size_bytes"], 0)
		assert.Equal(t, "/api/emg/files/"+w.sampleHash, r.header.Get("Location"))
		w.sampleMeta = r.body
	})

	t.Run("upload again", func(t *testing.T) {
		r := s.upload(t, "?sample_rate=2000", sample)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		assert.JSONEq(t, string(w.sampleMeta), string(r.body), "the first upload's metadata")

		r = s.upload(t, "?sample_rate=1000", sample)
		r.requireError(t, http.StatusConflict)
	})

	t.Run("metadata", func(t *testing.T) {
		for range 2 {
			r := s.get(t, "/api/emg/files/"+w.sampleHash)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			assert.JSONEq(t, string(w.sampleMeta), string(r.body))
		}
		r := s.get(t, "/api/emg/files/"+strings.ToUpper(w.sampleHash))
		assert.Equal(t, http.StatusOK, r.status, "hex digits in either case")
	})

	t.Run("analysis is a miss, then a hit", func(t *testing.T) {
		path := "/api/emg/analysis/" + w.sampleHash
		before := stats(t, s)
		first := s.get(t, path)
		require.Equal(t, http.StatusOK, first.status, "body: %s", first.body)
		cs := first.header.Get("Cache-Status")
		assert.Contains(t, cs, "fwd=uri-miss", "nothing cached yet")
		assert.Contains(t, cs, "stored")
		afterMiss := stats(t, s)
		assert.Greater(t, afterMiss.Misses, before.Misses)

		var a analysisBody
		require.NoError(t, json.Unmarshal(first.body, &a))
		assert.Equal(t, w.sampleHash, a.FileHash)
		assert.InDelta(t, 2000, a.SampleRate, 0)
		assert.Equal(t, 4000, a.Samples)
		assert.Equal(t, 500, a.WindowSamples, "0.25 s at 2000 Hz by default")
		require.Len(t, a.Channels, 4)
		for _, c := range a.Channels {
			assert.NotEmpty(t, c.Windows, c.Name)
			assert.Positive(t, c.RMS, c.Name)
			assert.Positive(t, c.MedianFrequency, c.Name)
		}

		second := s.get(t, path)
		require.Equal(t, http.StatusOK, second.status)
		assert.Contains(t, second.header.Get("Cache-Status"), "; hit")
		assert.Equal(t, string(first.body), string(second.body))
		etag := first.header.Get("ETag")
		require.NotEmpty(t, etag)
		assert.Equal(t, etag, second.header.Get("ETag"))
		revalidated := s.do(t, http.MethodGet, path, nil, "If-None-Match", etag)
		assert.Equal(t, http.StatusNotModified, revalidated.status)
		assert.Empty(t, revalidated.body)
		assert.Contains(t, revalidated.header.Get("Cache-Status"), "; hit", "answered from the cache")
		afterHit := stats(t, s)
		assert.Greater(t, afterHit.Hits, afterMiss.Hits)
		w.sampleAnalysis = first.body
	})

	t.Run("analysis options", func(t *testing.T) {
		path := "/api/emg/analysis/" + w.sampleHash
		r := s.get(t, path+"?window_seconds=0.5&overlap=0")
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		assert.Contains(t, r.header.Get("Cache-Status"), "fwd=uri-miss", "other options, another entry")
		var a analysisBody
		require.NoError(t, json.Unmarshal(r.body, &a))
		assert.Equal(t, 1000, a.WindowSamples)
		assert.Zero(t, a.OverlapFraction)
		assert.Len(t, a.Channels[0].Windows, 4)

		for _, query := range []string{
			"window_seconds=abc",
			"window_seconds=0",
			"window_seconds=-1",
			"window_seconds=Inf",
			"window_seconds=NaN",
			"window_seconds=0.001", // 2 samples
			"overlap=0.95",
			"overlap=-0.1",
			"window_seconds=1&window_seconds=2",
			"color=red",
		} {
			r := s.get(t, path+"?"+query)
			r.requireError(t, http.StatusBadRequest)
			assert.NotContains(t, r.header.Get("Cache-Status"), "stored", query)
		}
	})

	t.Run("invalidate", func(t *testing.T) {
		const path = "/api/cache/invalidate?pattern=emg_analysis:*"
		s.do(t, http.MethodPost, path, nil).requireError(t, http.StatusUnauthorized)
		s.do(t, http.MethodPost, path, nil, "Authorization", "Bearer not-the-token").requireError(t, http.StatusUnauthorized)

		r := s.do(t, http.MethodPost, path, nil, "Authorization", "Bearer "+w.token)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		assert.GreaterOrEqual(t, r.object(t)["removed"], 1.0)

		a := s.get(t, "/api/emg/analysis/"+w.sampleHash)
		require.Equal(t, http.StatusOK, a.status)
		assert.Contains(t, a.header.Get("Cache-Status"), "fwd=uri-miss", "invalidated")
		assert.Equal(t, string(w.sampleAnalysis), string(a.body))
	})

	t.Run("bad input", func(t *testing.T) {
		unknown := sha256Hex([]byte("never uploaded"))
		for _, tc := range []struct {
			name, path string
			status     int
		}{
			{"metadata of a hash that is not hex", "/api/emg/files/not-a-hash", http.StatusBadRequest},
			{"analysis of a hash that is not hex", "/api/emg/analysis/zz" + unknown[2:], http.StatusBadRequest},
			{"metadata of an unknown hash", "/api/emg/files/" + unknown, http.StatusNotFound},
			{"analysis of an unknown hash", "/api/emg/analysis/" + unknown, http.StatusNotFound},
			{"no such endpoint", "/api/emg/nothing", http.StatusNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for range 2 {
					r := s.get(t, tc.path)
					r.requireError(t, tc.status)
					assert.NotContains(t, r.header.Get("Cache-Status"), "hit", "an error is not cached")
				}
			})
		}

		badRate := csvRecording("bad-rate", 2, 10)
		for _, tc := range []struct {
			name, query string
			body        []byte
			chunked     bool
			status      int
		}{
			{"malformed CSV", "?sample_rate=2000", []byte("a,b\n1,x\n"), false, http.StatusBadRequest},
			{"ragged CSV", "?sample_rate=2000", []byte("a,b\n1,2\n3\n"), false, http.StatusBadRequest},
			{"empty body", "?sample_rate=2000", nil, false, http.StatusBadRequest},
			{"header only", "?sample_rate=2000", []byte("a,b\n"), false, http.StatusBadRequest},
			{"binary", "?sample_rate=2000", []byte("\x00\x01\x02\xff"), false, http.StatusBadRequest},
			{"oversized", "?sample_rate=2000", bytes.Repeat([]byte("1\n"), testMaxUpload/2+1), false, http.StatusRequestEntityTooLarge},
			{"oversized without a length", "?sample_rate=2000", bytes.Repeat([]byte("1\n"), testMaxUpload/2+1), true, http.StatusRequestEntityTooLarge},
			{"no sample rate", "", badRate, false, http.StatusBadRequest},
			{"sample rate not a number", "?sample_rate=fast", badRate, false, http.StatusBadRequest},
			{"zero sample rate", "?sample_rate=0", badRate, false, http.StatusBadRequest},
			{"negative sample rate", "?sample_rate=-2000", badRate, false, http.StatusBadRequest},
			{"NaN sample rate", "?sample_rate=NaN", badRate, false, http.StatusBadRequest},
			{"sample rate above 1 MHz", "?sample_rate=2e6", badRate, false, http.StatusBadRequest},
			{"two sample rates", "?sample_rate=1000&sample_rate=2000", badRate, false, http.StatusBadRequest},
			{"unknown format", "?sample_rate=2000&format=c3d", badRate, false, http.StatusBadRequest},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var body io.Reader = bytes.NewReader(tc.body)
				if tc.chunked {
					// Hides the length, so the limit is hit while reading.
					body = struct{ io.Reader }{body}
				}
				r := s.do(t, http.MethodPost, "/api/emg/files"+tc.query, body, "Content-Type", "text/csv")
				r.requireError(t, tc.status)
				s.get(t, "/api/emg/files/"+sha256Hex(tc.body)).requireError(t, http.StatusNotFound)
			})
		}
	})

	t.Run("analysis of a file uploaded after a 404", func(t *testing.T) {
		body := csvRecording("late", 2, 2000)
		path := "/api/emg/analysis/" + sha256Hex(body)
		s.get(t, path).requireError(t, http.StatusNotFound)
		require.Equal(t, http.StatusCreated, s.upload(t, "?sample_rate=2000", body).status)
		r := s.get(t, path)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		assert.Contains(t, r.header.Get("Cache-Status"), "fwd=uri-miss")
	})

	t.Run("too many windows", func(t *testing.T) {
		body := csvRecording("long", 2, 60_000)
		require.Equal(t, http.StatusCreated, s.upload(t, "?sample_rate=2000", body).status)
		path := "/api/emg/analysis/" + sha256Hex(body)
		assert.Equal(t, http.StatusOK, s.get(t, path).status, "the defaults make 239 windows per channel")
		msg := s.get(t, path+"?window_seconds=0.002&overlap=0.9").requireError(t, http.StatusBadRequest)
		assert.Contains(t, msg, "windows")
	})

	t.Run("preferences", func(t *testing.T) {
		path := "/api/users/" + url.PathEscape(w.user) + "/preferences"
		s.get(t, path).requireError(t, http.StatusNotFound)

		put := s.do(t, http.MethodPut, path, strings.NewReader(`{"theme": "dark", "channels": ["biceps_l"]}`))
		require.Equal(t, http.StatusOK, put.status, "body: %s", put.body)
		assert.JSONEq(t, `{"theme":"dark","channels":["biceps_l"]}`, string(put.body))
		for range 2 {
			r := s.get(t, path)
			require.Equal(t, http.StatusOK, r.status)
			assert.JSONEq(t, `{"theme":"dark","channels":["biceps_l"]}`, string(r.body))
		}

		require.Equal(t, http.StatusOK, s.do(t, http.MethodPut, path, strings.NewReader(`{"theme":"light"}`)).status)
		r := s.get(t, path)
		require.Equal(t, http.StatusOK, r.status)
		assert.JSONEq(t, `{"theme":"light"}`, string(r.body), "the cache was written through, not left stale")

		s.do(t, http.MethodPut, path, strings.NewReader(`[1, 2]`)).requireError(t, http.StatusBadRequest)
		s.do(t, http.MethodPut, path, strings.NewReader(`{"theme":`)).requireError(t, http.StatusBadRequest)
		big := `{"x":"` + strings.Repeat("a", 17<<10) + `"}`
		s.do(t, http.MethodPut, path, strings.NewReader(big)).requireError(t, http.StatusRequestEntityTooLarge)
		r = s.get(t, path)
		assert.JSONEq(t, `{"theme":"light"}`, string(r.body), "refused writes change nothing")

		s.get(t, "/api/users/"+strings.Repeat("u", 300)+"/preferences").requireError(t, http.StatusBadRequest)
		s.get(t, "/api/users/bob/preferences").requireError(t, http.StatusNotFound)
	})
}

// shutdownDuringUpload sends SIGTERM while an upload is in flight and
// checks that the upload still succeeds and the server exits cleanly.
func shutdownDuringUpload(t *testing.T, s *serverProcess) {
	body := csvRecording("in-flight", 2, 500)
	conn, err := net.DialTimeout("tcp", s.addr, waitLimit)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(waitLimit)))
	_, err = fmt.Fprintf(conn, "POST /api/emg/files?sample_rate=2000 HTTP/1.1\r\nHost: %s\r\n"+
		"Content-Type: text/csv\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", s.addr, len(body))
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	// The server says 100 Continue once the handler reads the body: from
	// then on the request is in flight.
	cont, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusContinue, cont.StatusCode)

	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	s.waitLog(t, "shutting down")
	_, err = conn.Write(body)
	require.NoError(t, err)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "body: %s", b)
	assert.Contains(t, string(b), sha256Hex(body))

	require.NoError(t, s.wait(t), "the server exits with status 0")
	s.waitLog(t, "stopped")
}

// waitHealth polls the health endpoint until it answers status.
func waitHealth(t *testing.T, s *serverProcess, status int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		r := s.get(t, "/api/cache/health")
		if r.status == status {
			return
		}
		require.True(t, time.Now().Before(deadline), "health still %d, not %d, after %v: %s", r.status, status, waitLimit, r.body)
		time.Sleep(20 * time.Millisecond)
	}
}

// cacheStats is the part of /api/cache/stats the tests read.
type cacheStats struct {
	Healthy bool  `json:"healthy"`
	Hits    int64 `json:"hits"`
	Misses  int64 `json:"misses"`
}

func stats(t *testing.T, s *serverProcess) cacheStats {
	t.Helper()
	r := s.get(t, "/api/cache/stats")
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	var st cacheStats
	require.NoError(t, json.Unmarshal(r.body, &st))
	return st
}

// analysisBody is the part of an analysis the tests read.
type analysisBody struct {
	FileHash        string  `json:"file_hash"`
	SampleRate      float64 `json:"sample_rate"`
	Samples         int     `json:"samples"`
	WindowSamples   int     `json:"window_samples"`
	OverlapFraction float64 `json:"overlap_fraction"`
	Channels        []struct {
		Name            string            `json:"name"`
		RMS             float64           `json:"rms"`
		MedianFrequency float64           `json:"median_frequency_hz"`
		Windows         []json.RawMessage `json:"windows"`
	} `json:"channels"`
}

// csvRecording returns a recording of the given size whose channel names
// carry tag, so that every tag gives bytes (and a hash) of its own. The
// signal alternates in sign, so it has a spectrum to analyse.
func csvRecording(tag string, channels, rows int) []byte {
	var b bytes.Buffer
	for c := range channels {
		if c > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s_%d", tag, c)
	}
	b.WriteByte('\n')
	for i := range rows {
		for c := range channels {
			if c > 0 {
				b.WriteByte(',')
			}
			v := float64((i*7+c*3)%11) / 10
			if (i/(c+2))%2 == 1 {
				v = -v
			}
			fmt.Fprintf(&b, "%g", v)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
