package emg_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/emg"
	"github.com/emgcache/emgcache/emg/c3d"
	"github.com/emgcache/emgcache/emg/c3d/c3dtest"
)

func c3dSample(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("c3d", "testdata", name))
	require.NoError(t, err)
	return raw
}

func TestC3DReaderEMGFile(t *testing.T) {
	raw := c3dSample(t, "sample30_emgwl.c3d")
	f, err := c3d.Read(bytes.NewReader(raw))
	require.NoError(t, err)

	for _, rate := range []float64{0, 1600} {
		rec, err := emg.C3DReader{}.Read(bytes.NewReader(raw), rate)
		require.NoError(t, err)
		assert.Equal(t, []string{"MG-1", "MG-2", "MG-3", "MG-4"}, rec.Channels)
		assert.Equal(t, 1600.0, rec.SampleRate)
		assert.Equal(t, "mV", rec.Unit)
		require.Equal(t, 501*32, rec.Len())
		for c := range rec.Samples {
			for i, v := range rec.Samples[c] {
				require.InDelta(t, f.Analog[c].Samples[i]*1000, v, 1e-12, "the file is in volts; the recording in millivolts")
			}
		}
		require.NotNil(t, rec.C3D)
		assert.Equal(t, "Intel", rec.C3D.Processor)
		assert.Equal(t, "float", rec.C3D.Storage)
		assert.Equal(t, 501, rec.C3D.Frames)
		assert.Equal(t, "Biogesta", rec.C3D.Manufacturer["COMPANY"])
		assert.Equal(t, "Saga-3RT", rec.C3D.Manufacturer["SOFTWARE"])
		assert.Len(t, rec.C3D.Events, 3)
	}

	_, err = emg.C3DReader{}.Read(bytes.NewReader(raw), 2000)
	require.ErrorIs(t, err, emg.ErrBadSampleRate)
	assert.Contains(t, err.Error(), "1600 Hz")

	rec, err := emg.C3DReader{Channels: []string{"MG-3", "MG-1"}}.Read(bytes.NewReader(raw), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"MG-3", "MG-1"}, rec.Channels)

	_, err = emg.C3DReader{Channels: []string{"MG-9"}}.Read(bytes.NewReader(raw), 0)
	require.ErrorIs(t, err, emg.ErrNoChannels)
	assert.Contains(t, err.Error(), "MG-1, MG-2, MG-3, MG-4")

	a, err := emg.Analyze(rec, emg.AnalysisOptions{})
	require.NoError(t, err)
	assert.Len(t, a.Channels, 2)

	_, err = emg.C3DReader{MaxSamples: 1000}.Read(bytes.NewReader(raw), 0)
	require.ErrorIs(t, err, emg.ErrTooLarge)
}

func TestC3DReaderForceFileHasNoEMG(t *testing.T) {
	_, err := emg.C3DReader{}.Read(bytes.NewReader(c3dSample(t, "sample02_pc_int.c3d")), 0)
	require.ErrorIs(t, err, emg.ErrNoChannels)
	assert.Contains(t, err.Error(), "nt, ntmm, d.u.")
}

// TestC3DReaderUnitsAndPlates: volts, millivolts and microvolts come out
// in millivolts; a voltage channel wired to a force plate is not EMG.
func TestC3DReaderUnitsAndPlates(t *testing.T) {
	w := c3dtest.File{Frames: 50, SamplesPerFrame: 10, PointRate: 100, Float: true,
		Analog: []c3dtest.Channel{
			{Label: "FZ1", Unit: "V"},
			{Label: "TA", Unit: "V"},
			{Label: "GM", Unit: "µV"},
			{Label: "GM", Unit: "uV"},
			{Label: "SOL", Unit: "mV"},
			{Label: "TRIG", Unit: "count"},
		},
		Params: []c3dtest.Param{{Group: "FORCE_PLATFORM", Name: "CHANNEL", Value: []int16{1, 7, 8, 9, 10, 11}, Dims: []int{6, 1}}},
	}
	for c := range w.Analog {
		w.Analog[c].Scale = 0.5
		for i := range 500 {
			w.Analog[c].Raw = append(w.Analog[c].Raw, float64(i%17-8))
		}
	}
	raw, err := c3dtest.Bytes(w)
	require.NoError(t, err)
	rec, err := emg.C3DReader{}.Read(bytes.NewReader(raw), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"TA", "GM", "GM#2", "SOL"}, rec.Channels)
	assert.Equal(t, 1000.0, rec.SampleRate)
	for c, factor := range []float64{1000, 0.001, 0.001, 1} {
		for i, v := range rec.Samples[c] {
			require.InDelta(t, float64(i%17-8)*0.5*factor, v, 1e-9, "channel %s", rec.Channels[c])
		}
	}
	assert.True(t, rec.C3D.Analog[0].ForcePlate)
	assert.False(t, rec.C3D.Analog[0].EMG)
	assert.False(t, rec.C3D.Analog[5].EMG)
	_, err = json.Marshal(rec.C3D)
	require.NoError(t, err)
}

func TestC3DReaderMalformed(t *testing.T) {
	raw := c3dSample(t, "sample30_emgwl.c3d")
	_, err := emg.C3DReader{}.Read(bytes.NewReader(raw[:700]), 0)
	require.Error(t, err)
	assert.True(t, errors.Is(err, emg.ErrMalformed) && errors.Is(err, c3d.ErrMalformed), "%v", err)
}
