package main

import (
	"bytes"
	"encoding/json"
	"math"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/emg"
	"github.com/emgcache/emgcache/emg/c3d"
	"github.com/emgcache/emgcache/emg/c3d/c3dtest"
)

func c3dTestdata(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "emg", "c3d", "testdata", name))
	require.NoError(t, err)
	return raw
}

// TestServerC3DIntegration uploads C3D files to the server binary, and the
// ways newcomers mangle uploads.
func TestServerC3DIntegration(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	waitHealth(t, s, http.StatusOK)
	emgFile := c3dTestdata(t, "sample30_emgwl.c3d")
	hash := sha256Hex(emgFile)
	post := func(t *testing.T, query string, body []byte, contentType string) response {
		t.Helper()
		return s.do(t, http.MethodPost, "/api/emg/files"+query, bytes.NewReader(body), "Content-Type", contentType)
	}

	t.Run("a sample_rate that disagrees with the file", func(t *testing.T) {
		msg := post(t, "?sample_rate=2000", emgFile, "application/octet-stream").requireError(t, http.StatusBadRequest)
		assert.Contains(t, msg, "1600 Hz")
		s.get(t, "/api/emg/files/"+hash).requireError(t, http.StatusNotFound)
	})

	t.Run("upload recognised by its header bytes", func(t *testing.T) {
		r := post(t, "", emgFile, "text/csv") // the wrong type on purpose
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		var meta emg.Metadata
		require.NoError(t, json.Unmarshal(r.body, &meta))
		assert.Equal(t, "c3d", meta.Format)
		assert.Equal(t, []string{"MG-1", "MG-2", "MG-3", "MG-4"}, meta.Channels)
		assert.Equal(t, 1600.0, meta.SampleRate)
		assert.Equal(t, 501*32, meta.Samples)
		assert.Equal(t, "mV", meta.Unit)
		require.NotNil(t, meta.C3D)
		assert.Equal(t, "Intel", meta.C3D.Processor)
		assert.Equal(t, 50.0, meta.C3D.PointRate)
		assert.Equal(t, 501, meta.C3D.Frames)
		assert.Equal(t, "Volt", meta.C3D.Analog[0].Unit)
		assert.Equal(t, "Biogesta", meta.C3D.Manufacturer["COMPANY"])
		assert.Len(t, meta.C3D.Events, 3)

		again := post(t, "?sample_rate=1600&format=c3d", emgFile, "application/octet-stream")
		require.Equal(t, http.StatusOK, again.status, "body: %s", again.body)
		post(t, "?channels=MG-1", emgFile, "application/octet-stream").requireError(t, http.StatusConflict)
	})

	t.Run("metadata and analysis", func(t *testing.T) {
		m := s.get(t, "/api/emg/files/"+hash)
		require.Equal(t, http.StatusOK, m.status)
		var meta emg.Metadata
		require.NoError(t, json.Unmarshal(m.body, &meta))
		require.NotNil(t, meta.C3D, "the C3D metadata is kept: %s", m.body)
		assert.Equal(t, "MG-4", meta.C3D.Analog[3].Label)

		a := s.get(t, "/api/emg/analysis/"+hash)
		require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)
		var an analysisResponse
		require.NoError(t, json.Unmarshal(a.body, &an))
		require.Len(t, an.Channels, 4)
		// The RMS of MG-1, computed here from the reader's volts.
		f, err := c3d.Read(bytes.NewReader(emgFile))
		require.NoError(t, err)
		var sum float64
		for _, v := range f.Analog[0].Samples {
			sum += v * v * 1e6
		}
		assert.InDelta(t, math.Sqrt(sum/float64(len(f.Analog[0].Samples))), an.Channels[0].RMS, 1e-9)
		assert.Equal(t, 1600.0, an.SampleRate)
	})

	t.Run("a file without EMG channels", func(t *testing.T) {
		msg := post(t, "", c3dTestdata(t, "sample02_pc_int.c3d"), "application/octet-stream").requireError(t, http.StatusUnprocessableEntity)
		assert.Contains(t, msg, "voltage")
	})

	t.Run("channels chosen by name, units made one", func(t *testing.T) {
		w := c3dtest.File{Frames: 100, SamplesPerFrame: 20, PointRate: 100, Float: true,
			Analog: []c3dtest.Channel{{Label: "FZ", Unit: "V"}, {Label: "TA", Unit: "mV"}, {Label: "GM", Unit: "µV"}},
			Params: []c3dtest.Param{{Group: "FORCE_PLATFORM", Name: "CHANNEL", Value: []int16{1}, Dims: []int{1, 1}}},
		}
		for c := range w.Analog {
			for i := range 2000 {
				w.Analog[c].Raw = append(w.Analog[c].Raw, math.Sin(float64(i)*0.7)*1000)
			}
		}
		raw, err := c3dtest.Bytes(w)
		require.NoError(t, err)
		post(t, "?channels=FZ", raw, "application/octet-stream").requireError(t, http.StatusUnprocessableEntity)
		post(t, "?channels=nope", raw, "application/octet-stream").requireError(t, http.StatusUnprocessableEntity)
		r := post(t, "", raw, "application/octet-stream")
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		var meta emg.Metadata
		require.NoError(t, json.Unmarshal(r.body, &meta))
		assert.Equal(t, []string{"TA", "GM"}, meta.Channels, "FZ is a force plate channel")
		a := s.get(t, "/api/emg/analysis/"+meta.FileHash)
		require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)
		var an analysisResponse
		require.NoError(t, json.Unmarshal(a.body, &an))
		// The same raw signal in mV and in µV: in one unit, 1000 times
		// apart.
		assert.InDelta(t, 1000, an.Channels[0].RMS/an.Channels[1].RMS, 1e-6)
	})

	t.Run("truncated", func(t *testing.T) {
		msg := post(t, "", emgFile[:1500], "application/octet-stream").requireError(t, http.StatusBadRequest)
		assert.Contains(t, msg, "malformed C3D file")
		msg = post(t, "", emgFile[:1500], "application/x-www-form-urlencoded").requireError(t, http.StatusBadRequest)
		assert.Contains(t, msg, "--data-binary", "what curl -d sends gets the hint")
	})

	t.Run("too large", func(t *testing.T) {
		big := append(bytes.Clone(emgFile), make([]byte, testMaxUpload)...)
		post(t, "", big, "application/octet-stream").requireError(t, http.StatusRequestEntityTooLarge)
	})

	csvBody := csvRecording("newcomer", 2, 200)
	t.Run("curl -F", func(t *testing.T) {
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		part, err := mw.CreateFormFile("file", "recording.csv")
		require.NoError(t, err)
		_, _ = part.Write(csvBody)
		require.NoError(t, mw.Close())
		msg := post(t, "?sample_rate=2000", form.Bytes(), mw.FormDataContentType()).requireError(t, http.StatusUnsupportedMediaType)
		assert.Contains(t, msg, "--data-binary")
		// and without the type
		msg = post(t, "?sample_rate=2000", form.Bytes(), "application/octet-stream").requireError(t, http.StatusUnsupportedMediaType)
		assert.Contains(t, msg, "--data-binary")
	})
	t.Run("curl -d", func(t *testing.T) {
		stripped := bytes.ReplaceAll(csvBody, []byte("\n"), nil)
		msg := post(t, "?sample_rate=2000", stripped, "application/x-www-form-urlencoded").requireError(t, http.StatusBadRequest)
		assert.Contains(t, msg, "--data-binary")
	})
	t.Run("JSON", func(t *testing.T) {
		for _, ct := range []string{"application/json", "application/octet-stream"} {
			msg := post(t, "?sample_rate=2000", []byte(`{"samples": [1, 2, 3]}`), ct).requireError(t, http.StatusUnsupportedMediaType)
			assert.Contains(t, msg, "--data-binary")
		}
	})
	t.Run("rates the analysis cannot use", func(t *testing.T) {
		for _, rate := range []string{"1e-300", "10", "0"} {
			post(t, "?sample_rate="+rate, csvBody, "text/csv").requireError(t, http.StatusBadRequest)
		}
		s.get(t, "/api/emg/files/"+sha256Hex(csvBody)).requireError(t, http.StatusNotFound)
		post(t, "", csvBody, "text/csv").requireError(t, http.StatusBadRequest)
		post(t, "?format=c3d&sample_rate=2000", csvBody, "text/csv").requireError(t, http.StatusBadRequest)
	})
}
