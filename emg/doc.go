// Package emg is the electromyography (EMG) domain that the example server,
// the benchmarks and services built on emgcache share: multi-channel
// surface-EMG recordings, their readers, the analysis and its result types.
//
// The flow a service builds on is:
//
//  1. An upload arrives as raw bytes. A [Reader] parses them into a
//     [Recording]: [CSVReader] for comma-separated values, with the sample
//     rate given beside the upload; [C3DReader] for the C3D files motion
//     labs produce, whose rate comes from the file and whose EMG channels
//     (analog channels in a voltage unit, not wired to a force plate) it
//     converts to millivolts. Package github.com/emgcache/emgcache/emg/c3d
//     is the format itself, standard library only.
//     [NewMetadata] describes it, keyed by the SHA-256 of the raw bytes
//     ([HashBytes]), so the same file uploaded twice is the same recording.
//  2. [Analyze] computes amplitude and spectral features over windows. It is
//     the deliberately expensive step (windowed FFTs over every channel) and
//     is what a cache sits in front of; its result is a pure function of the
//     raw bytes, the sample rate and the normalised [AnalysisOptions], which
//     makes it safe to cache under those three.
//
// Every parsing and validation failure wraps one of a few sentinel errors
// ([ErrEmptyRecording], [ErrMalformed], [ErrTooLarge], [ErrBadSampleRate],
// [ErrNoChannels], [ErrBadOptions]) so an HTTP layer can map them to status codes with
// [errors.Is] without parsing messages.
//
// [Synthesize] produces a deterministic, physiologically plausible recording;
// the example server's testdata/sample_emg.csv is generated from it (run
// "go run ./cmd/gensample" from this module).
//
// The package depends on the standard library and gonum's FFT only.
package emg
