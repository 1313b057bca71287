package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	// Registers the pure-Go "sqlite" driver: a real database query to set
	// beside the cache, without cgo.
	_ "modernc.org/sqlite"

	"github.com/emgcache/emgcache/store"
)

// simulatedQuery is the low end of the "50–100 ms database queries" that
// the cache is meant to replace.
const simulatedQuery = 50 * time.Millisecond

// origin is one way to obtain the analysis of a recording.
type origin struct {
	name string
	get  func(ctx context.Context) (Analysis, error)
}

// originDB is a SQLite database holding what the example server keeps: the
// samples of a recording and its stored analysis.
type originDB struct {
	db       *sql.DB
	fileHash string
}

// openOriginDB creates the database in dir with one recording: the
// example's sample shape, 4 channels of 2 s at 2 kHz (16,000 rows), and its
// analysis as JSON.
func openOriginDB(tb testing.TB, dir string, a Analysis) *originDB {
	tb.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "origin.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	for _, stmt := range []string{
		`CREATE TABLE samples (file_hash TEXT NOT NULL, channel INTEGER NOT NULL, t INTEGER NOT NULL, v REAL NOT NULL, PRIMARY KEY (file_hash, channel, t)) WITHOUT ROWID`,
		`CREATE TABLE analyses (file_hash TEXT PRIMARY KEY, result TEXT NOT NULL)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			tb.Fatal(err)
		}
	}
	o := &originDB{db: db, fileHash: "3f2a9c"}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO samples VALUES (?, ?, ?, ?)`)
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for ch := range len(a.Channels) {
		for t := range a.Samples {
			v := math.Sin(float64(t)/7) * r.NormFloat64()
			if _, err := ins.ExecContext(ctx, o.fileHash, ch, t, v); err != nil {
				tb.Fatal(err)
			}
		}
	}
	encoded, err := json.Marshal(a)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO analyses VALUES (?, ?)`, o.fileHash, encoded); err != nil {
		tb.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return o
}

// storedJSON reads the stored analysis by primary key: the cheapest query
// a service could make instead of a cache read.
func (o *originDB) storedJSON(ctx context.Context) ([]byte, error) {
	var b []byte
	err := o.db.QueryRowContext(ctx, `SELECT result FROM analyses WHERE file_hash = ?`, o.fileHash).Scan(&b)
	return b, err
}

// storedAnalysis is storedJSON decoded.
func (o *originDB) storedAnalysis(ctx context.Context) (a Analysis, err error) {
	b, err := o.storedJSON(ctx)
	if err == nil {
		err = json.Unmarshal(b, &a)
	}
	return a, err
}

// aggregate computes per-channel amplitude features from the raw samples
// in SQL: a query that does real work, though much less than the full
// spectral analysis.
func (o *originDB) aggregate(ctx context.Context) (a Analysis, err error) {
	rows, err := o.db.QueryContext(ctx, `
		SELECT channel, COUNT(*), SQRT(AVG(v*v)), AVG(ABS(v)), MAX(ABS(v))
		FROM samples WHERE file_hash = ? GROUP BY channel ORDER BY channel`, o.fileHash)
	if err != nil {
		return a, err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var ch ChannelAnalysis
		var n, idx int
		if err := rows.Scan(&idx, &n, &ch.RMS, &ch.MeanAbsoluteValue, &ch.PeakAmplitude); err != nil {
			return a, err
		}
		ch.Name = fmt.Sprintf("channel_%d", idx)
		a.Samples = n
		a.Channels = append(a.Channels, ch)
	}
	return a, rows.Err()
}

// origins returns the typed cached reads and the origins they stand in
// for. The first is the baseline: the store's usual read, a client-side
// cache hit.
func (c *clients) origins(key string, db *originDB, encoded []byte) []origin {
	getJSON := func(cache *store.Cache) func(ctx context.Context) (Analysis, error) {
		return func(ctx context.Context) (Analysis, error) { return store.GetJSON[Analysis](ctx, cache, key) }
	}
	return []origin{
		{"store-GetJSON", getJSON(c.store)},
		{"store-GetJSON-no-client-cache", getJSON(c.storeRoundTrip)},
		{"sqlite-stored-analysis", db.storedAnalysis},
		{"sqlite-aggregate-16k-rows", db.aggregate},
		{"simulated-query-50ms", func(ctx context.Context) (a Analysis, err error) {
			t := time.NewTimer(simulatedQuery)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return a, ctx.Err()
			case <-t.C:
			}
			err = json.Unmarshal(encoded, &a)
			return a, err
		}},
	}
}

// rawOrigins returns the reads of the same analysis as bytes, without
// decoding: what the HTTP middleware does with a stored response.
func (c *clients) rawOrigins(key string, db *originDB) []reader {
	return []reader{
		{"store-Get", func(ctx context.Context) ([]byte, error) { return c.store.Get(ctx, key) }},
		{"store-Get-no-client-cache", func(ctx context.Context) ([]byte, error) { return c.storeRoundTrip.Get(ctx, key) }},
		{"sqlite-stored-analysis", db.storedJSON},
	}
}

// BenchmarkOrigin checks the seed's claim, "1–2 ms cache operations vs
// 50–100 ms database queries, 50x", against what this code measures: a
// typed read of the example's analysis from the cache, beside a SQLite
// lookup of the same stored result, a SQLite aggregate over the raw
// samples, and a 50 ms simulated query; and the same reads as bytes, which
// is what serving a stored HTTP response costs.
func BenchmarkOrigin(b *testing.B) {
	c := newClients(b)
	ctx := context.Background()
	a := synthAnalysis(b, 4, 2)
	encoded, err := json.Marshal(a)
	if err != nil {
		b.Fatal(err)
	}
	if err := store.SetJSON(ctx, c.store, "origin", a, time.Hour); err != nil {
		b.Fatal(err)
	}
	db := openOriginDB(b, b.TempDir(), a)
	for _, o := range c.origins("origin", db, encoded) {
		if _, err := o.get(ctx); err != nil {
			b.Fatalf("%s: %v", o.name, err)
		}
		b.Run("decode=json/source="+o.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := o.get(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, r := range c.rawOrigins("origin", db) {
		if _, err := r.get(ctx); err != nil {
			b.Fatalf("%s: %v", r.name, err)
		}
		b.Run("decode=none/source="+r.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.get(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestOrigins checks that every origin answers with the recording's
// channels.
func TestOrigins(t *testing.T) {
	c := newClients(t)
	ctx := t.Context()
	a := synthAnalysis(t, 2, 0.5)
	encoded, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetJSON(ctx, c.store, "origin", a, time.Hour); err != nil {
		t.Fatal(err)
	}
	db := openOriginDB(t, t.TempDir(), a)
	for _, o := range c.origins("origin", db, encoded) {
		if o.name == "simulated-query-50ms" {
			continue // sleeps; its result is the encoded analysis itself
		}
		got, err := o.get(ctx)
		if err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		if len(got.Channels) != 2 || got.Samples != a.Samples {
			t.Errorf("%s: %d channels of %d samples, want 2 of %d", o.name, len(got.Channels), got.Samples, a.Samples)
		}
	}
	for _, r := range c.rawOrigins("origin", db) {
		got, err := r.get(ctx)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if !bytes.Equal(got, encoded) {
			t.Errorf("%s: read %d bytes, not the %d stored", r.name, len(got), len(encoded))
		}
	}
}
