package emg

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Metadata describes one stored recording file. FileHash identifies it: two
// uploads of the same bytes are the same recording.
type Metadata struct {
	// FileHash is HashBytes of the raw file.
	FileHash string `json:"file_hash"`
	// Format is the Reader.Format that parsed the file.
	Format string `json:"format"`
	// Channels names the channels in file order.
	Channels []string `json:"channels"`
	// SampleRate is the sample rate in Hz the file was ingested with.
	SampleRate float64 `json:"sample_rate"`
	// Samples is the number of samples per channel.
	Samples int `json:"samples"`
	// DurationSeconds is Samples / SampleRate.
	DurationSeconds float64 `json:"duration_seconds"`
	// SizeBytes is the length of the raw file.
	SizeBytes int64 `json:"size_bytes"`
	// UploadedAt is when the file was first stored, in UTC.
	UploadedAt time.Time `json:"uploaded_at"`
	// Unit is Recording.Unit: the unit of every sample, when known.
	Unit string `json:"unit,omitempty"`
	// C3D describes a C3D file: processor, rates, frames, channels,
	// events, trial and manufacturer fields.
	C3D *C3DInfo `json:"c3d,omitempty"`
}

// HashBytes returns the lower-case hex SHA-256 of b, the content address
// under which recordings are stored.
func HashBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// NewMetadata describes rec, parsed from raw by a reader of the given
// format, as uploaded at uploadedAt. The time is converted to UTC and
// stripped of its monotonic reading so that it compares equal, with ==
// as well as Equal, to the value read back from a [Repository].
func NewMetadata(format string, rec *Recording, raw []byte, uploadedAt time.Time) Metadata {
	return Metadata{
		FileHash:        HashBytes(raw),
		Format:          format,
		Channels:        append([]string(nil), rec.Channels...),
		SampleRate:      rec.SampleRate,
		Samples:         rec.Len(),
		DurationSeconds: rec.DurationSeconds(),
		SizeBytes:       int64(len(raw)),
		UploadedAt:      uploadedAt.UTC().Round(0),
		Unit:            rec.Unit,
		C3D:             rec.C3D,
	}
}
