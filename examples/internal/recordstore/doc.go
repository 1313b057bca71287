// Package recordstore is the example server's system of record: uploaded
// EMG files (their raw bytes and [emg.Metadata], keyed by content hash) and
// users' preferences, in SQLite.
//
// [Ingest] parses an upload with an [emg.Reader], derives its metadata and
// saves both; identity is the SHA-256 of the raw bytes ([emg.HashBytes]), so
// uploading the same file twice is a no-op rather than a duplicate. An
// analysis request loads the bytes back with [Repository.Raw] and parses
// them again.
//
// Errors about stored records wrap [ErrNotFound], [ErrConflict],
// [ErrMetadataMismatch] or [ErrBadPreferences]; parse errors wrap the
// reader's sentinels from package emg.
package recordstore
