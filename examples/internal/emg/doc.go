// Package emg is the electromyography (EMG) domain behind the example server:
// it reads multi-channel surface-EMG recordings, analyses them, and keeps the
// uploaded files in a SQLite system of record.
//
// The flow the server builds on is:
//
//  1. An upload arrives as raw bytes plus the sample rate the amplifier ran
//     at. [Ingest] parses the bytes with a [Reader] (today [CSVReader]; a C3D
//     reader can satisfy the same interface later), derives [Metadata] keyed
//     by the SHA-256 of the raw bytes ([HashBytes]) and stores both in a
//     [Repository]. Identity is the content hash, so uploading the same file
//     twice is a no-op rather than a duplicate.
//  2. An analysis request loads the raw bytes back with [Repository.Raw],
//     parses them again and runs [Analyze]. Analysis is the deliberately
//     expensive step (windowed FFTs over every channel) and is what a cache
//     sits in front of; its result is a pure function of the raw bytes, the
//     sample rate and the normalised [AnalysisOptions], which makes it safe to
//     cache under those three.
//
// Every parsing and validation failure wraps one of a few sentinel errors
// ([ErrEmptyRecording], [ErrMalformed], [ErrTooLarge], [ErrBadSampleRate],
// [ErrBadOptions], [ErrNotFound], [ErrConflict], [ErrMetadataMismatch]) so an
// HTTP layer can map them to status codes with [errors.Is] without parsing
// messages.
//
// [Synthesize] produces a deterministic, physiologically plausible recording;
// the server's testdata/sample_emg.csv is generated from it (see the
// go:generate directive in synth.go, or run
// "go run ./internal/emg/cmd/gensample" from the examples module) and a test
// checks the shipped file is byte-identical to what the code produces.
package emg
