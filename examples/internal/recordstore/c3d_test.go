package recordstore_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/emg"
	"github.com/emgcache/emgcache/examples/internal/recordstore"
)

func c3dSample(t *testing.T) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "emg", "c3d", "testdata", "sample30_emgwl.c3d"))
	require.NoError(t, err)
	return raw
}

func TestIngestC3DKeepsDetails(t *testing.T) {
	ctx := t.Context()
	repo := openRepo(t, filepath.Join(t.TempDir(), "emg.db"))
	raw := c3dSample(t)
	meta, created, err := recordstore.Ingest(ctx, repo, emg.C3DReader{Channels: []string{"MG-1", "MG-2"}}, raw, 0)
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, 1600.0, meta.SampleRate)
	assert.Equal(t, "mV", meta.Unit)
	require.NotNil(t, meta.C3D)

	stored, err := repo.Metadata(ctx, meta.FileHash)
	require.NoError(t, err)
	require.NotNil(t, stored.C3D)
	assert.Equal(t, "mV", stored.Unit)
	assert.Equal(t, meta.C3D.Analog, stored.C3D.Analog)
	assert.Equal(t, "Biogesta", stored.C3D.Manufacturer["COMPANY"])

	_, _, err = recordstore.Ingest(ctx, repo, emg.C3DReader{Channels: []string{"MG-3"}}, raw, 0)
	require.ErrorIs(t, err, recordstore.ErrConflict, "the same bytes with other channels")
	_, created, err = recordstore.Ingest(ctx, repo, emg.C3DReader{Channels: []string{"MG-1", "MG-2"}}, raw, 1600)
	require.NoError(t, err)
	assert.False(t, created)
}

// TestOpenAddsDetailsColumn opens a database written before the details
// column existed.
func TestOpenAddsDetailsColumn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE recordings (file_hash TEXT PRIMARY KEY, format TEXT NOT NULL, channels TEXT NOT NULL,
		sample_rate REAL NOT NULL, samples INTEGER NOT NULL, duration_seconds REAL NOT NULL, size_bytes INTEGER NOT NULL,
		uploaded_at TEXT NOT NULL, raw BLOB NOT NULL)`)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO recordings VALUES ('ab', 'csv', '["a"]', 2000, 1, 0.0005, 1, '2025-01-01T00:00:00Z', x'00')`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	repo := openRepo(t, path)
	meta, err := repo.Metadata(t.Context(), "ab")
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, meta.Channels)
	assert.Nil(t, meta.C3D)
}
