package emg_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/emgcache/emgcache/emg"
)

func TestHashBytes(t *testing.T) {
	assert.Equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", emg.HashBytes(nil))
	assert.Equal(t, emg.HashBytes([]byte("abc")), emg.HashBytes([]byte("abc")))
	assert.NotEqual(t, emg.HashBytes([]byte("abc")), emg.HashBytes([]byte("abd")))
}

func TestNewMetadata(t *testing.T) {
	rec := recording(500, []float64{1, 2, 3}, []float64{4, 5, 6})
	raw := []byte("raw")
	at := time.Date(2025, 1, 2, 3, 4, 5, 6, time.FixedZone("CET", 3600))
	meta := emg.NewMetadata("csv", rec, raw, at)
	assert.Equal(t, emg.Metadata{
		FileHash: emg.HashBytes(raw), Format: "csv", Channels: []string{"a", "b"}, SampleRate: 500,
		Samples: 3, DurationSeconds: 3.0 / 500, SizeBytes: 3, UploadedAt: at.UTC(),
	}, meta)
	rec.Channels[0] = "changed"
	assert.Equal(t, "a", meta.Channels[0], "channels are copied")
}
