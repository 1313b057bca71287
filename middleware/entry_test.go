package middleware

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var storedAt = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// newEntry encodes a response and decodes it, as a fill does.
func newEntry(t testing.TB, status int, h http.Header, body []byte, at time.Time, life lifetime) (*entry, string) {
	t.Helper()
	raw := string(encodeEntry(status, h, body, at, life))
	e := new(entry)
	require.NoError(t, decodeEntry(raw, e))
	return e, raw
}

func TestEntryRoundTrip(t *testing.T) {
	h := http.Header{
		"Content-Type":  {"application/json"},
		"Etag":          {`"v1"`},
		"Cache-Control": {"max-age=600", "stale-if-error=60"},
		"Vary":          {"Accept"},
	}
	body := []byte(`{"rms":[0.1,0.2]}`)
	life := lifetime{fresh: 10 * time.Minute, swr: time.Minute, sie: time.Hour}
	got, raw := newEntry(t, http.StatusOK, h, body, storedAt.Add(1234567), life)
	assert.Equal(t, http.StatusOK, got.status)
	assert.Equal(t, storedAt.Add(time.Millisecond), got.storedAt.UTC(), "millisecond precision")
	assert.Equal(t, life, lifetime{fresh: got.fresh, swr: got.swr, sie: got.sie})
	assert.Equal(t, string(body), got.body)
	assert.Equal(t, raw, string(appendEntry(nil, got)), "re-encoding gives the same bytes")
	assert.Equal(t, []string{"max-age=600", "stale-if-error=60"}, got.get("Cache-Control"))
	assert.Equal(t, []string{"17"}, got.get("Content-Length"))
	assert.Equal(t, []string{"Sun, 01 Jun 2025 12:00:00 GMT"}, got.get("Date"))
}

func TestEntryHeaders(t *testing.T) {
	h := http.Header{
		"Connection":        {"close, X-Hop"},
		"X-Hop":             {"1"},
		"Keep-Alive":        {"timeout=5"},
		"Transfer-Encoding": {"chunked"},
		"Age":               {"100"},
		"Content-Length":    {"999"},
		"Date":              {"Mon, 02 Jun 2025 00:00:00 GMT"},
		"X-Empty":           {},
		"X-Kept":            {"yes"},
	}
	e, _ := newEntry(t, http.StatusOK, h, []byte("<html>hi</html>"), storedAt, lifetime{fresh: time.Minute})
	var names []string
	for _, hd := range e.headers {
		names = append(names, hd.name)
	}
	assert.Equal(t, []string{"Content-Length", "Content-Type", "Date", "X-Kept"}, names, "sorted, hop-by-hop dropped")
	assert.Equal(t, []string{"15"}, e.get("Content-Length"), "the body's length, not the handler's claim")
	assert.Equal(t, []string{"text/html; charset=utf-8"}, e.get("Content-Type"), "sniffed as net/http would")
	assert.Equal(t, []string{"Mon, 02 Jun 2025 00:00:00 GMT"}, e.get("Date"), "the handler's Date is kept")

	e, _ = newEntry(t, http.StatusOK, http.Header{"Content-Type": nil}, []byte("<html>"), storedAt, lifetime{fresh: time.Minute})
	assert.Nil(t, e.get("Content-Type"), "a nil Content-Type asks for no sniffing")

	e, _ = newEntry(t, http.StatusNoContent, http.Header{}, nil, storedAt, lifetime{fresh: time.Minute})
	assert.Nil(t, e.get("Content-Length"), "204 has no Content-Length")
}

func TestDecodeRejectsCorrupt(t *testing.T) {
	_, raw := newEntry(t, http.StatusOK, http.Header{"X-A": {"1", "2"}, "X-B": {"3"}}, []byte("body"), storedAt, lifetime{fresh: time.Minute})
	bodyStart := len(raw) - len("body")
	for n := range bodyStart {
		var e entry
		assert.Error(t, decodeEntry(raw[:n], &e), "truncated at %d", n)
	}
	for _, bad := range []string{"", "e", "e\x02", "v\x01", `{"status":200}`, "e\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"} {
		var e entry
		assert.ErrorIs(t, decodeEntry(bad, &e), errCorrupt, "%q", bad)
	}
	var rec varyRecord
	assert.ErrorIs(t, decodeVaryRecord(raw, &rec), errCorrupt)
}

func TestVaryRecordRoundTrip(t *testing.T) {
	rec := varyRecord{nonce: [16]byte{9, 8, 7}, names: []string{"Accept", "Accept-Language"}}
	var got varyRecord
	require.NoError(t, decodeVaryRecord(string(appendVaryRecord(nil, &rec)), &got))
	assert.Equal(t, rec, got)
	var e entry
	assert.ErrorIs(t, decodeEntry(string(appendVaryRecord(nil, &rec)), &e), errCorrupt)
}

// FuzzDecodeEntry feeds the decoder whatever may sit at a key: it must
// never panic nor allocate beyond its input, and what it accepts must
// survive another round trip.
func FuzzDecodeEntry(f *testing.F) {
	_, raw := newEntry(f, http.StatusOK, http.Header{"X-A": {"1", "2"}}, []byte("body"), storedAt, lifetime{fresh: time.Minute})
	f.Add([]byte(raw))
	f.Add(appendVaryRecord(nil, &varyRecord{names: []string{"Accept"}}))
	f.Add([]byte("e\x01\xc8\x01\x00\x00\x00\x00\x05\x01\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e entry
		if decodeEntry(string(b), &e) == nil {
			var again entry
			require.NoError(t, decodeEntry(string(appendEntry(nil, &e)), &again))
			require.Equal(t, e.headers, again.headers)
			require.Equal(t, e.body, again.body)
		}
		var rec varyRecord
		_ = decodeVaryRecord(string(b), &rec)
	})
}

// jsonEntry is the obvious alternative encoding, for the benchmark: the
// body base64-encoded inside JSON.
type jsonEntry struct {
	Status   int                 `json:"status"`
	StoredAt time.Time           `json:"stored_at"`
	Fresh    time.Duration       `json:"fresh"`
	Headers  map[string][]string `json:"headers"`
	Body     []byte              `json:"body"`
}

// BenchmarkEntryCodec compares the binary encoding with JSON for a typical
// analysis response (4 KiB of JSON, six headers). A hit decodes once.
func BenchmarkEntryCodec(b *testing.B) {
	h := http.Header{
		"Content-Type":  {"application/json"},
		"Etag":          {`"3f2a9c"`},
		"Cache-Control": {"public, max-age=3600"},
		"Last-Modified": {"Sun, 01 Jun 2025 12:00:00 GMT"},
		"Vary":          {"Accept-Encoding"},
		"X-Request-Id":  {"5b0f7c1e-4a55-4c1c-9d63-0f0d3e8f1a2b"},
	}
	body := []byte(strings.Repeat(`{"channel":"EMG1","rms":0.123456},`, 4096/34))
	life := lifetime{fresh: time.Hour}
	raw := string(encodeEntry(http.StatusOK, h, body, storedAt, life))
	je := jsonEntry{Status: 200, StoredAt: storedAt, Fresh: time.Hour, Headers: h, Body: body}
	js, err := json.Marshal(je)
	require.NoError(b, err)
	b.Logf("encoded sizes: binary %d bytes, JSON %d bytes, body %d bytes", len(raw), len(js), len(body))

	b.Run("binary/encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = encodeEntry(http.StatusOK, h, body, storedAt, life)
		}
	})
	b.Run("json/encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(je)
		}
	})
	b.Run("binary/decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var got entry
			if err := decodeEntry(raw, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A hit gets its value from the store as a string: decoding copies
	// nothing. JSON has to be handed bytes and copies the body out of
	// base64.
	b.Run("json/decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var got jsonEntry
			if err := json.Unmarshal(js, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
}
