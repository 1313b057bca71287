package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

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
