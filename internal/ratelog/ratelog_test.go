package ratelog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/emgcache/emgcache/internal/ratelog"
)

// records decodes the JSON lines written so far.
func records(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("record %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

func TestFailedIsRateLimitedPerOperation(t *testing.T) {
	var buf bytes.Buffer
	const interval = time.Minute
	l := ratelog.New(slog.New(slog.NewJSONHandler(&buf, nil)), interval)
	now := time.Unix(1000, 0)
	l.Now = func() time.Time { return now }
	ctx := context.Background()
	fail := errors.New("backend unavailable")

	for range 5 {
		l.Failed(ctx, slog.LevelWarn, "get", "cache call failed", fail, slog.String("key", "k"))
	}
	l.Failed(ctx, slog.LevelWarn, "set", "cache call failed", fail)
	got := records(t, &buf)
	if len(got) != 2 {
		t.Fatalf("got %d records, want one per operation within the interval: %v", len(got), got)
	}
	for _, c := range []struct{ field, want any }{
		{got[0]["op"], "get"},
		{got[0]["level"], "WARN"},
		{got[0]["msg"], "cache call failed"},
		{got[0]["error"], fail.Error()},
		{got[0]["key"], "k"},
		{got[0]["suppressed"], float64(0)},
		{got[1]["op"], "set"},
	} {
		if c.field != c.want {
			t.Errorf("got %v, want %v in %v", c.field, c.want, got)
		}
	}

	now = now.Add(interval - time.Second)
	l.Failed(ctx, slog.LevelWarn, "get", "cache call failed", fail)
	if n := len(records(t, &buf)); n != 2 {
		t.Fatalf("a record within the interval was written: %d records", n)
	}
	now = now.Add(time.Second)
	l.Failed(ctx, slog.LevelWarn, "get", "cache call failed", fail)
	got = records(t, &buf)
	if len(got) != 3 {
		t.Fatalf("got %d records after the interval, want 3", len(got))
	}
	if got[2]["suppressed"] != float64(5) {
		t.Errorf("suppressed = %v, want 5: the four left out before and the one just before the interval ended", got[2]["suppressed"])
	}
}

func TestFailedBelowTheLevelCountsNothing(t *testing.T) {
	var buf bytes.Buffer
	l := ratelog.New(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})), time.Minute)
	now := time.Unix(1000, 0)
	l.Now = func() time.Time { return now }
	ctx := context.Background()
	fail := errors.New("refused")
	l.Failed(ctx, slog.LevelDebug, "get", "m", fail)
	l.Failed(ctx, slog.LevelWarn, "get", "m", fail)
	got := records(t, &buf)
	if len(got) != 1 || got[0]["suppressed"] != float64(0) || got[0]["level"] != "WARN" {
		t.Fatalf("a disabled level must neither write nor use up the interval: %v", got)
	}
}

func TestNilLoggerWritesNothing(t *testing.T) {
	if l := ratelog.New(nil, time.Minute); l != nil {
		t.Fatalf("New(nil) = %v, want nil", l)
	}
	var l *ratelog.Logger
	l.Failed(context.Background(), slog.LevelWarn, "get", "m", errors.New("x")) // must not panic
}
