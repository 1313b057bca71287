package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fastWriter is a ResponseWriter with net/http's fast paths, recording
// which of them each write took.
type fastWriter struct {
	h     http.Header
	calls []string
	body  strings.Builder
}

func (w *fastWriter) Header() http.Header { return w.h }
func (w *fastWriter) WriteHeader(int)     {}
func (w *fastWriter) Write(p []byte) (int, error) {
	w.calls = append(w.calls, "Write")
	return w.body.Write(p)
}

func (w *fastWriter) WriteString(s string) (int, error) {
	w.calls = append(w.calls, "WriteString")
	return w.body.WriteString(s)
}

func (w *fastWriter) ReadFrom(r io.Reader) (int64, error) {
	w.calls = append(w.calls, "ReadFrom")
	return io.Copy(&w.body, r)
}

// plainWriter has none of them but Write.
type plainWriter struct{ fw fastWriter }

func (w *plainWriter) Header() http.Header         { return w.fw.h }
func (w *plainWriter) WriteHeader(int)             {}
func (w *plainWriter) Write(p []byte) (int, error) { return w.fw.Write(p) }

func TestStatusWriterPassesFastPathsThrough(t *testing.T) {
	body := strings.Repeat("x", 64<<10)
	for _, tc := range []struct {
		name  string
		plain bool
		write func(w http.ResponseWriter) error
		want  []string
	}{
		{"WriteString", false, func(w http.ResponseWriter) error { _, err := io.WriteString(w, body); return err }, []string{"WriteString"}},
		{"ReadFrom", false, func(w http.ResponseWriter) error {
			_, err := io.Copy(w, io.LimitReader(strings.NewReader(body), int64(len(body))))
			return err
		}, []string{"ReadFrom"}},
		{"Write", false, func(w http.ResponseWriter) error { _, err := w.Write([]byte(body)); return err }, []string{"Write"}},
		{"ReadFrom on a writer without it", true, func(w http.ResponseWriter) error {
			_, err := io.Copy(w, io.LimitReader(strings.NewReader(body), int64(len(body))))
			return err
		}, []string{"Write", "Write"}}, // io.Copy's 32 KiB buffer
		{"WriteString on a writer without it", true, func(w http.ResponseWriter) error { _, err := io.WriteString(w, body); return err }, []string{"Write"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fw := &fastWriter{h: http.Header{}}
			var under http.ResponseWriter = fw
			if tc.plain {
				pw := &plainWriter{fastWriter{h: http.Header{}}}
				under, fw = pw, &pw.fw
			}
			sw := &statusWriter{ResponseWriter: under}
			require.NoError(t, tc.write(sw))
			assert.Equal(t, tc.want, fw.calls)
			assert.Equal(t, body, fw.body.String())
			assert.Equal(t, http.StatusOK, sw.status, "a body without WriteHeader is a 200")
			assert.Same(t, under, http.ResponseWriter(sw.Unwrap()))
		})
	}
}

// What the buffer holds is written out by Close, and a record written
// after Close goes out at once: nothing logged is lost at shutdown.
func TestLogBufferWritesOutOnClose(t *testing.T) {
	var out bytes.Buffer
	b := newLogBuffer(&out, time.Hour)
	_, err := io.WriteString(b, "one\n")
	require.NoError(t, err)
	_, err = io.WriteString(b, "two\n")
	require.NoError(t, err)
	require.NoError(t, b.Close())
	assert.Equal(t, "one\ntwo\n", out.String())
	_, err = io.WriteString(b, "three\n")
	require.NoError(t, err)
	assert.Equal(t, "one\ntwo\nthree\n", out.String())
	require.NoError(t, b.Close())
}

// The analysis route is routed in front of gorilla/mux; its requests are
// logged like every other, with the route's template and the file hash.
func TestAccessLogNamesTheAnalysisRoute(t *testing.T) {
	var out bytes.Buffer
	s := newTestServer(t, newLogger(&out, config{logFormat: "json", logLevel: slog.LevelInfo}))
	const hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tt := range []struct{ method, path, route string }{
		{http.MethodGet, "/api/emg/analysis/" + hash, analysisRoute},
		{http.MethodHead, "/api/emg/analysis/" + hash, analysisRoute},
		{http.MethodGet, "/api/emg/files/" + hash, "/api/emg/files/{file_hash}"},
	} {
		t.Run(tt.method+" "+tt.route, func(t *testing.T) {
			out.Reset()
			res, _ := serveOnce(t, s.routes(), tt.method, tt.path)
			assert.Equal(t, http.StatusNotFound, res.StatusCode, "no such file")
			var rec map[string]any
			require.NoError(t, json.Unmarshal(out.Bytes(), &rec), "one record: %s", out.String())
			assert.Equal(t, "request", rec["msg"])
			assert.Equal(t, tt.route, rec["route"])
			assert.Equal(t, hash, rec["file_hash"])
			assert.Equal(t, tt.method, rec["method"])
			assert.EqualValues(t, http.StatusNotFound, rec["status"])
		})
	}
}
