package recordstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/emgcache/emgcache/emg"
)

// Ingest parses raw with reader at sampleRate, derives its [emg.Metadata] and
// saves both in repo. It returns the stored metadata and whether this call
// created the record; for bytes already stored that is the first upload's
// metadata, so UploadedAt reports when the recording first arrived.
//
// Parse errors wrap the reader's sentinel errors (see [emg.CSVReader.Read]);
// re-uploading stored bytes with a different sample rate wraps
// [ErrConflict].
func Ingest(ctx context.Context, repo *Repository, reader emg.Reader, raw []byte, sampleRate float64) (emg.Metadata, bool, error) {
	rec, err := reader.Read(bytes.NewReader(raw), sampleRate)
	if err != nil {
		return emg.Metadata{}, false, fmt.Errorf("ingest: %w", err)
	}
	meta := emg.NewMetadata(reader.Format(), rec, raw, time.Now())
	created, err := repo.Save(ctx, meta, raw)
	if err != nil {
		return emg.Metadata{}, false, fmt.Errorf("ingest: %w", err)
	}
	if created {
		return meta, true, nil
	}
	stored, err := repo.Metadata(ctx, meta.FileHash)
	if err != nil {
		return emg.Metadata{}, false, fmt.Errorf("ingest: %w", err)
	}
	return stored, false, nil
}
