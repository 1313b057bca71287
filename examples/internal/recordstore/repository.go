package recordstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	// Registers the pure-Go "sqlite" driver, so the server builds without
	// cgo.
	_ "modernc.org/sqlite"

	"github.com/emgcache/emgcache/emg"
)

// Repository errors.
var (
	// ErrNotFound reports a file hash with no stored recording.
	ErrNotFound = errors.New("recording not found")
	// ErrConflict reports bytes already stored under a different format,
	// sample rate or choice of channels. Accepting them silently would hand
	// later analyses a rate or channels the uploader did not ask for.
	ErrConflict = errors.New("recording already stored with a different format, sample rate or channels")
	// ErrMetadataMismatch reports metadata whose hash or size does not
	// match the raw bytes saved with it.
	ErrMetadataMismatch = errors.New("metadata does not match raw bytes")
)

// busyTimeoutMillis is how long a writer waits for another connection's
// write lock before SQLITE_BUSY; uploads are small, so seconds is plenty.
const busyTimeoutMillis = 5000

const schema = `
CREATE TABLE IF NOT EXISTS recordings (
	file_hash        TEXT PRIMARY KEY,
	format           TEXT NOT NULL,
	channels         TEXT NOT NULL, -- JSON array of names
	sample_rate      REAL NOT NULL,
	samples          INTEGER NOT NULL,
	duration_seconds REAL NOT NULL,
	size_bytes       INTEGER NOT NULL,
	uploaded_at      TEXT NOT NULL, -- RFC 3339 with nanoseconds, UTC
	raw              BLOB NOT NULL,
	details          TEXT NOT NULL DEFAULT '{}' -- JSON: the unit and format-specific metadata
)`

// addDetails upgrades a database created before the details column.
const addDetails = `ALTER TABLE recordings ADD COLUMN details TEXT NOT NULL DEFAULT '{}'`

// details is the JSON of the details column: what Metadata holds beyond
// the fixed columns.
type details struct {
	Unit string       `json:"unit,omitempty"`
	C3D  *emg.C3DInfo `json:"c3d,omitempty"`
}

// Repository is the system of record for uploaded recordings: raw bytes and
// their [emg.Metadata], keyed by content hash, in SQLite. It is safe for
// concurrent use.
type Repository struct {
	db *sql.DB
}

// Open opens (creating if needed) the SQLite database at path and
// its schema.
//
// path is a file name, a "file:" URI, or ":memory:" (or "") for a private
// in-memory database. A file database runs in WAL mode with a busy timeout
// so concurrent readers and writers wait instead of failing. An in-memory
// database exists per connection, so it is limited to one connection and
// lives until Close; it suits tests and demos.
func Open(ctx context.Context, path string) (*Repository, error) {
	memory := path == "" || path == ":memory:" ||
		strings.HasPrefix(path, "file::memory:") || strings.Contains(path, "mode=memory")
	dsn := path
	switch {
	case path == "":
		dsn = ":memory:"
	case memory:
	case strings.HasPrefix(path, "file:"):
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		dsn = path + sep + fileParams()
	default:
		// Escaping as a URI keeps '?' or '#' in a file name from being
		// taken for parameters.
		dsn = "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + fileParams()
	}

	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open repository %q: %w", path, err)
	}
	if memory {
		db.SetMaxOpenConns(1)
	}
	for _, stmt := range []string{schema, prefsSchema} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("open repository %q: create schema: %w", path, err)
		}
	}
	var hasDetails int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('recordings') WHERE name = 'details'`).Scan(&hasDetails); err != nil {
		db.Close()
		return nil, fmt.Errorf("open repository %q: inspect schema: %w", path, err)
	}
	if hasDetails == 0 {
		if _, err := db.ExecContext(ctx, addDetails); err != nil {
			db.Close()
			return nil, fmt.Errorf("open repository %q: add details column: %w", path, err)
		}
	}
	return &Repository{db: db}, nil
}

func fileParams() string {
	return fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate",
		busyTimeoutMillis)
}

// Save stores raw and its metadata. It is idempotent: saving bytes that are
// already stored leaves the first record (and its UploadedAt) untouched and
// reports created == false.
//
// meta.FileHash and meta.SizeBytes must describe raw, or the error wraps
// [ErrMetadataMismatch]. A zero meta.UploadedAt is stamped with the current
// time. Saving stored bytes with a different format or sample rate fails
// with [ErrConflict].
func (r *Repository) Save(ctx context.Context, meta emg.Metadata, raw []byte) (created bool, err error) {
	if got := emg.HashBytes(raw); meta.FileHash != got {
		return false, fmt.Errorf("save %s: raw bytes hash to %s: %w", meta.FileHash, got, ErrMetadataMismatch)
	}
	if meta.SizeBytes != int64(len(raw)) {
		return false, fmt.Errorf("save %s: size %d, raw has %d bytes: %w", meta.FileHash, meta.SizeBytes, len(raw), ErrMetadataMismatch)
	}
	if meta.UploadedAt.IsZero() {
		meta.UploadedAt = time.Now()
	}
	channels, err := json.Marshal(meta.Channels)
	if err != nil {
		return false, fmt.Errorf("save %s: encode channels: %w", meta.FileHash, err)
	}
	extra, err := json.Marshal(details{Unit: meta.Unit, C3D: meta.C3D})
	if err != nil {
		return false, fmt.Errorf("save %s: encode details: %w", meta.FileHash, err)
	}
	res, err := r.db.ExecContext(ctx, `
		INSERT INTO recordings (file_hash, format, channels, sample_rate, samples, duration_seconds, size_bytes, uploaded_at, raw, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (file_hash) DO NOTHING`,
		meta.FileHash, meta.Format, string(channels), meta.SampleRate, meta.Samples, meta.DurationSeconds,
		meta.SizeBytes, meta.UploadedAt.UTC().Format(time.RFC3339Nano), raw, string(extra))
	if err != nil {
		return false, fmt.Errorf("save %s: %w", meta.FileHash, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("save %s: %w", meta.FileHash, err)
	}
	if n == 1 {
		return true, nil
	}
	// Stored rows never change, so comparing outside a transaction is
	// not racy.
	stored, err := r.Metadata(ctx, meta.FileHash)
	if err != nil {
		return false, fmt.Errorf("save %s: %w", meta.FileHash, err)
	}
	if stored.Format != meta.Format || stored.SampleRate != meta.SampleRate {
		return false, fmt.Errorf("save %s as %s at %v Hz: stored as %s at %v Hz: %w",
			meta.FileHash, meta.Format, meta.SampleRate, stored.Format, stored.SampleRate, ErrConflict)
	}
	// A C3D file's channels are a choice made at upload, so the same bytes
	// with other channels are another recording.
	if !slices.Equal(stored.Channels, meta.Channels) {
		return false, fmt.Errorf("save %s with channels %q: stored with channels %q: %w",
			meta.FileHash, meta.Channels, stored.Channels, ErrConflict)
	}
	return false, nil
}

// Metadata returns the metadata stored under fileHash, or an error wrapping
// [ErrNotFound].
func (r *Repository) Metadata(ctx context.Context, fileHash string) (emg.Metadata, error) {
	var (
		meta                      emg.Metadata
		channels, uploaded, extra string
	)
	err := r.db.QueryRowContext(ctx, `
		SELECT file_hash, format, channels, sample_rate, samples, duration_seconds, size_bytes, uploaded_at, details
		FROM recordings WHERE file_hash = ?`, fileHash).
		Scan(&meta.FileHash, &meta.Format, &channels, &meta.SampleRate, &meta.Samples, &meta.DurationSeconds,
			&meta.SizeBytes, &uploaded, &extra)
	if errors.Is(err, sql.ErrNoRows) {
		return emg.Metadata{}, fmt.Errorf("metadata %s: %w", fileHash, ErrNotFound)
	}
	if err != nil {
		return emg.Metadata{}, fmt.Errorf("metadata %s: %w", fileHash, err)
	}
	if err := json.Unmarshal([]byte(channels), &meta.Channels); err != nil {
		return emg.Metadata{}, fmt.Errorf("metadata %s: decode channels: %w", fileHash, err)
	}
	if meta.UploadedAt, err = time.Parse(time.RFC3339Nano, uploaded); err != nil {
		return emg.Metadata{}, fmt.Errorf("metadata %s: decode upload time: %w", fileHash, err)
	}
	var d details
	if err := json.Unmarshal([]byte(extra), &d); err != nil {
		return emg.Metadata{}, fmt.Errorf("metadata %s: decode details: %w", fileHash, err)
	}
	meta.Unit, meta.C3D = d.Unit, d.C3D
	return meta, nil
}

// Raw returns the bytes stored under fileHash, or an error wrapping
// [ErrNotFound].
func (r *Repository) Raw(ctx context.Context, fileHash string) ([]byte, error) {
	var raw []byte
	err := r.db.QueryRowContext(ctx, `SELECT raw FROM recordings WHERE file_hash = ?`, fileHash).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("raw %s: %w", fileHash, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("raw %s: %w", fileHash, err)
	}
	return raw, nil
}

// Close closes the database; an in-memory repository's contents are lost.
func (r *Repository) Close() error {
	return r.db.Close()
}
