package recordstore_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/emg"
	"github.com/emgcache/emgcache/examples/internal/recordstore"
)

func openRepo(t *testing.T, path string) *recordstore.Repository {
	t.Helper()
	repo, err := recordstore.Open(t.Context(), path)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, repo.Close()) })
	return repo
}

// repoPaths are the storage kinds every repository test runs against.
func repoPaths(t *testing.T) map[string]string {
	dir := t.TempDir()
	return map[string]string{
		"memory":        ":memory:",
		"file":          filepath.Join(dir, "emg.db"),
		"file with ?#%": filepath.Join(dir, "odd ?#% name.db"),
		"file URI":      "file:" + filepath.Join(dir, "uri.db"),
	}
}

func testMetadata(raw []byte) emg.Metadata {
	return emg.Metadata{
		FileHash:        emg.HashBytes(raw),
		Format:          "csv",
		Channels:        []string{"biceps_l", "triceps_l"},
		SampleRate:      2000,
		Samples:         1,
		DurationSeconds: 0.0005,
		SizeBytes:       int64(len(raw)),
		UploadedAt:      time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC),
	}
}

func TestRepositoryRoundTrip(t *testing.T) {
	for name, path := range repoPaths(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			repo := openRepo(t, path)
			raw := []byte("biceps_l,triceps_l\n0.1,-0.2\n")
			meta := testMetadata(raw)

			created, err := repo.Save(ctx, meta, raw)
			require.NoError(t, err)
			assert.True(t, created)

			got, err := repo.Metadata(ctx, meta.FileHash)
			require.NoError(t, err)
			assert.Equal(t, meta, got)

			gotRaw, err := repo.Raw(ctx, meta.FileHash)
			require.NoError(t, err)
			assert.Equal(t, raw, gotRaw)

			// Saving again is a no-op that keeps the first upload time.
			later := meta
			later.UploadedAt = meta.UploadedAt.Add(time.Hour)
			created, err = repo.Save(ctx, later, raw)
			require.NoError(t, err)
			assert.False(t, created)
			got, err = repo.Metadata(ctx, meta.FileHash)
			require.NoError(t, err)
			assert.Equal(t, meta.UploadedAt, got.UploadedAt)
		})
	}
}

func TestRepositoryNotFound(t *testing.T) {
	repo := openRepo(t, ":memory:")
	hash := emg.HashBytes([]byte("never stored"))
	_, err := repo.Metadata(t.Context(), hash)
	require.ErrorIs(t, err, recordstore.ErrNotFound)
	assert.Contains(t, err.Error(), hash)
	_, err = repo.Raw(t.Context(), hash)
	require.ErrorIs(t, err, recordstore.ErrNotFound)
}

func TestRepositorySaveRejects(t *testing.T) {
	raw := []byte("a\n1\n")
	tests := []struct {
		name   string
		mutate func(*emg.Metadata)
		want   error
	}{
		{name: "hash of other bytes", mutate: func(m *emg.Metadata) { m.FileHash = emg.HashBytes([]byte("other")) }, want: recordstore.ErrMetadataMismatch},
		{name: "upper-case hash", mutate: func(m *emg.Metadata) { m.FileHash = "A" + m.FileHash[1:] }, want: recordstore.ErrMetadataMismatch},
		{name: "wrong size", mutate: func(m *emg.Metadata) { m.SizeBytes++ }, want: recordstore.ErrMetadataMismatch},
		{name: "stored with another sample rate", mutate: func(m *emg.Metadata) { m.SampleRate = 1000 }, want: recordstore.ErrConflict},
		{name: "stored with another format", mutate: func(m *emg.Metadata) { m.Format = "c3d" }, want: recordstore.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			repo := openRepo(t, ":memory:")
			_, err := repo.Save(ctx, testMetadata(raw), raw)
			require.NoError(t, err)

			meta := testMetadata(raw)
			tt.mutate(&meta)
			created, err := repo.Save(ctx, meta, raw)
			require.ErrorIs(t, err, tt.want)
			assert.False(t, created)

			stored, err := repo.Metadata(ctx, emg.HashBytes(raw))
			require.NoError(t, err)
			assert.Equal(t, testMetadata(raw), stored, "the stored record is untouched")
		})
	}
}

func TestRepositoryStampsZeroUploadTime(t *testing.T) {
	repo := openRepo(t, ":memory:")
	raw := []byte("a\n1\n")
	meta := testMetadata(raw)
	meta.UploadedAt = time.Time{}
	before := time.Now()
	_, err := repo.Save(t.Context(), meta, raw)
	require.NoError(t, err)
	got, err := repo.Metadata(t.Context(), meta.FileHash)
	require.NoError(t, err)
	assert.WithinRange(t, got.UploadedAt, before.Add(-time.Second), time.Now().Add(time.Second))
	assert.Equal(t, time.UTC, got.UploadedAt.Location())
}

func TestRepositoryPersistsAcrossReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "emg.db")
	raw := []byte("a\n1\n")

	repo, err := recordstore.Open(ctx, path)
	require.NoError(t, err)
	_, err = repo.Save(ctx, testMetadata(raw), raw)
	require.NoError(t, err)
	require.NoError(t, repo.Close())

	repo = openRepo(t, path)
	got, err := repo.Raw(ctx, emg.HashBytes(raw))
	require.NoError(t, err)
	assert.Equal(t, raw, got)
}

func TestRepositoryConcurrentSaves(t *testing.T) {
	for name, path := range repoPaths(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			repo := openRepo(t, path)

			// Several goroutines race to save each of a few recordings:
			// exactly one save per recording may report creating it.
			const recordings, writers = 5, 8
			var created [recordings]atomic.Int32
			var wg sync.WaitGroup
			for w := range writers {
				for r := range recordings {
					wg.Go(func() {
						raw := []byte{byte(r), 'x'}
						ok, err := repo.Save(ctx, testMetadata(raw), raw)
						if !assert.NoError(t, err, "writer %d recording %d", w, r) {
							return
						}
						if ok {
							created[r].Add(1)
						}
						_, err = repo.Metadata(ctx, emg.HashBytes(raw))
						assert.NoError(t, err)
					})
				}
			}
			wg.Wait()
			for r := range created {
				assert.Equal(t, int32(1), created[r].Load(), "recording %d", r)
			}
		})
	}
}

func TestOpenFails(t *testing.T) {
	_, err := recordstore.Open(t.Context(), filepath.Join(t.TempDir(), "missing", "dir", "emg.db"))
	require.Error(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = recordstore.Open(ctx, ":memory:")
	require.ErrorIs(t, err, context.Canceled)
}

func TestIngest(t *testing.T) {
	ctx := t.Context()
	repo := openRepo(t, ":memory:")
	raw := []byte("biceps_l,triceps_l\n0.1,-0.2\n0.3,0.4\n0.5,0.6\n0.7,0.8\n")

	before := time.Now()
	meta, created, err := recordstore.Ingest(ctx, repo, emg.CSVReader{}, raw, 2000)
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, emg.HashBytes(raw), meta.FileHash)
	assert.Equal(t, "csv", meta.Format)
	assert.Equal(t, []string{"biceps_l", "triceps_l"}, meta.Channels)
	assert.Equal(t, 2000.0, meta.SampleRate)
	assert.Equal(t, 4, meta.Samples)
	assert.InDelta(t, 0.002, meta.DurationSeconds, 1e-12)
	assert.Equal(t, int64(len(raw)), meta.SizeBytes)
	assert.WithinRange(t, meta.UploadedAt, before.Add(-time.Second), time.Now().Add(time.Second))

	stored, err := repo.Metadata(ctx, meta.FileHash)
	require.NoError(t, err)
	assert.Equal(t, meta, stored, "returned metadata is what a later read sees")

	again, created, err := recordstore.Ingest(ctx, repo, emg.CSVReader{}, raw, 2000)
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, meta, again, "a repeat upload reports the first one")

	_, _, err = recordstore.Ingest(ctx, repo, emg.CSVReader{}, raw, 1000)
	require.ErrorIs(t, err, recordstore.ErrConflict)

	_, _, err = recordstore.Ingest(ctx, repo, emg.CSVReader{}, []byte("a,b\n1\n"), 2000)
	require.ErrorIs(t, err, emg.ErrMalformed)
	_, _, err = recordstore.Ingest(ctx, repo, emg.CSVReader{}, raw, -1)
	require.ErrorIs(t, err, emg.ErrBadSampleRate)
	_, _, err = recordstore.Ingest(ctx, repo, emg.CSVReader{}, nil, 2000)
	require.ErrorIs(t, err, emg.ErrEmptyRecording)
}
