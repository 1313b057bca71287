package emg

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/emgcache/emgcache/emg/c3d"
)

// ErrNoChannels reports a file without the channels asked for: no analog
// channel in a voltage unit outside the force plates, or none of the names
// in C3DReader.Channels.
var ErrNoChannels = errors.New("no EMG channels")

// C3DUnit is the unit C3DReader converts every EMG channel to.
const C3DUnit = "mV"

// C3DReader reads the EMG channels of C3D files (see package
// github.com/emgcache/emgcache/emg/c3d for the format).
//
// EMG channels are the analog channels whose unit is a voltage (V, mV, µV
// and their spellings, such as "Volt" or "uV") and that FORCE_PLATFORM:CHANNEL
// does not assign to a force plate. Their values are converted to
// millivolts ([C3DUnit]), so a file mixing µV and mV channels yields one
// unit. Channel names are the labels, made unique by a "#2", "#3", …
// suffix where a file repeats one, and "analog_N" (1-based) where a label
// is empty.
//
// The zero value reads every EMG channel. C3DReader holds no state, so one
// value may be shared by concurrent goroutines.
type C3DReader struct {
	// Channels, when not empty, selects EMG channels by name, in this
	// order; a name that is not an EMG channel of the file is an error
	// wrapping ErrNoChannels.
	Channels []string
	// MaxSamples bounds the total number of values kept, summed over the
	// selected channels; zero or negative means DefaultMaxSamples.
	MaxSamples int
}

var _ Reader = C3DReader{}

// Format returns "c3d".
func (C3DReader) Format() string { return "c3d" }

// C3DInfo describes a C3D file beyond its EMG samples.
type C3DInfo struct {
	Processor             string  `json:"processor"`
	Storage               string  `json:"storage"` // "int16" or "float"
	PointRate             float64 `json:"point_rate"`
	AnalogRate            float64 `json:"analog_rate"`
	AnalogSamplesPerFrame int     `json:"analog_samples_per_frame"`
	Frames                int     `json:"frames"`
	FirstFrame            int     `json:"first_frame"`
	Points                int     `json:"points"`
	// Analog lists every analog channel of the file, EMG or not.
	Analog []C3DChannel `json:"analog"`
	Events []C3DEvent   `json:"events,omitempty"`
	// Trial and Manufacturer hold the TRIAL and MANUFACTURER groups'
	// parameters by name, as text or numbers.
	Trial        map[string]any `json:"trial,omitempty"`
	Manufacturer map[string]any `json:"manufacturer,omitempty"`
	// Warnings are the reader's notes on where the file contradicts
	// itself.
	Warnings []string `json:"warnings,omitempty"`
}

// C3DChannel is one analog channel of a C3D file.
type C3DChannel struct {
	Label       string `json:"label"`
	Unit        string `json:"unit"`
	Description string `json:"description,omitempty"`
	// Name is the channel's name in the recording, for EMG channels.
	Name string `json:"name,omitempty"`
	// EMG reports a voltage channel outside the force plates.
	EMG bool `json:"emg"`
	// ForcePlate reports a channel listed in FORCE_PLATFORM:CHANNEL.
	ForcePlate bool `json:"force_plate,omitempty"`
}

// C3DEvent is one event of the EVENT group (or, without one, of the
// header's event table).
type C3DEvent struct {
	Context string  `json:"context,omitempty"`
	Label   string  `json:"label"`
	Time    float64 `json:"time_seconds"`
}

// Read parses a C3D file and returns its EMG channels in millivolts, at the
// file's analog rate. sampleRate is optional: 0 takes the file's rate, and
// any other value must agree with it.
//
// Errors wrap [ErrMalformed] (and [c3d.ErrMalformed]) for a file that does
// not parse, [ErrBadSampleRate] for a sampleRate that disagrees with the
// file or a file rate outside the accepted range, [ErrNoChannels],
// [ErrEmptyRecording] for a file without frames and [ErrTooLarge]. An error
// of r is wrapped as it is.
func (c C3DReader) Read(r io.Reader, sampleRate float64) (*Recording, error) {
	f, err := c3d.Read(r)
	if err != nil {
		if errors.Is(err, c3d.ErrMalformed) {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return nil, err
	}
	return c.FromFile(f, sampleRate)
}

// FromFile is Read for a file already decoded.
func (c C3DReader) FromFile(f *c3d.File, sampleRate float64) (*Recording, error) {
	rate := f.AnalogRate
	if sampleRate != 0 && !(math.Abs(sampleRate-rate) <= 1e-6*rate) {
		return nil, fmt.Errorf("sample rate %v Hz given, but the file's analog rate is %v Hz: %w", sampleRate, rate, ErrBadSampleRate)
	}
	if err := ValidateSampleRate(rate); err != nil {
		return nil, fmt.Errorf("the file's analog rate: %w", err)
	}
	info := DescribeC3D(f)

	var candidates []int // indices of EMG channels
	for i, ch := range info.Analog {
		if ch.EMG {
			candidates = append(candidates, i)
		}
	}
	chosen := candidates
	if len(c.Channels) > 0 {
		chosen = nil
		for _, name := range c.Channels {
			i := slices.IndexFunc(candidates, func(i int) bool { return info.Analog[i].Name == name })
			if i < 0 {
				return nil, fmt.Errorf("channel %q is not an EMG channel of the file (EMG channels: %s): %w",
					name, strings.Join(names(info, candidates), ", "), ErrNoChannels)
			}
			if !slices.Contains(chosen, candidates[i]) {
				chosen = append(chosen, candidates[i])
			}
		}
	}
	if len(chosen) == 0 {
		return nil, fmt.Errorf("none of the %d analog channels is in a voltage unit outside the force plates (units: %s): %w",
			len(info.Analog), strings.Join(units(info), ", "), ErrNoChannels)
	}
	if f.PointFrames == 0 || f.AnalogSamplesPerFrame == 0 {
		return nil, fmt.Errorf("the file holds no frames: %w", ErrEmptyRecording)
	}
	maxSamples := c.MaxSamples
	if maxSamples <= 0 {
		maxSamples = DefaultMaxSamples
	}
	if n := len(chosen) * len(f.Analog[chosen[0]].Samples); n > maxSamples {
		return nil, fmt.Errorf("%d channels × %d samples is over the limit of %d values: %w",
			len(chosen), len(f.Analog[chosen[0]].Samples), maxSamples, ErrTooLarge)
	}

	rec := &Recording{SampleRate: rate, Unit: C3DUnit, C3D: info}
	for _, i := range chosen {
		factor, _ := voltageFactor(f.Analog[i].Unit)
		samples := f.Analog[i].Samples // Read returned fresh slices: scaled in place
		for k, v := range samples {
			v *= factor
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("channel %q sample %d is %v: %w", info.Analog[i].Name, k, v, ErrMalformed)
			}
			samples[k] = v
		}
		rec.Channels = append(rec.Channels, info.Analog[i].Name)
		rec.Samples = append(rec.Samples, samples)
	}
	return rec, nil
}

// DescribeC3D returns what a C3DReader reports of f besides its samples.
func DescribeC3D(f *c3d.File) *C3DInfo {
	info := &C3DInfo{
		Processor:             f.Processor.String(),
		Storage:               "int16",
		PointRate:             f.PointRate,
		AnalogRate:            f.AnalogRate,
		AnalogSamplesPerFrame: f.AnalogSamplesPerFrame,
		Frames:                f.PointFrames,
		FirstFrame:            f.FirstFrame,
		Points:                len(f.Points),
		Trial:                 groupValues(f, "TRIAL"),
		Manufacturer:          groupValues(f, "MANUFACTURER"),
		Warnings:              f.Warnings,
	}
	if f.FloatStorage {
		info.Storage = "float"
	}
	plates := map[int]bool{}
	for _, n := range f.Param("FORCE_PLATFORM", "CHANNEL").Ints() {
		plates[n-1] = true
	}
	seen := map[string]int{}
	for i, ch := range f.Analog {
		name := ch.Label
		if name == "" {
			name = "analog_" + strconv.Itoa(i+1)
		}
		seen[name]++
		if k := seen[name]; k > 1 {
			name += "#" + strconv.Itoa(k)
		}
		_, volts := voltageFactor(ch.Unit)
		info.Analog = append(info.Analog, C3DChannel{
			Label: ch.Label, Unit: ch.Unit, Description: ch.Description, Name: name,
			EMG: volts && !plates[i], ForcePlate: plates[i],
		})
	}
	for _, e := range f.Events {
		info.Events = append(info.Events, C3DEvent{Context: e.Context, Label: e.Label, Time: finite(e.Time)})
	}
	if len(f.Events) == 0 {
		for _, e := range f.Header.Events {
			info.Events = append(info.Events, C3DEvent{Label: e.Label, Time: finite(e.Time)})
		}
	}
	return info
}

// voltageFactor returns the factor from unit to millivolts, and whether
// unit is a voltage at all.
func voltageFactor(unit string) (float64, bool) {
	u := strings.TrimSpace(unit)
	switch u {
	case "V", "v", "Volt", "Volts", "volt", "volts", "VOLT", "VOLTS":
		return 1000, true
	case "mV", "mv", "MV", "millivolt", "millivolts", "Millivolt", "Millivolts":
		return 1, true
	case "µV", "μV", "uV", "uv", "UV", "µv", "microvolt", "microvolts", "Microvolt", "Microvolts":
		return 0.001, true
	}
	return 0, false
}

// groupValues returns a group's parameters by name: Char as text (one
// string, or a list for arrays), numbers as a number or a list.
func groupValues(f *c3d.File, group string) map[string]any {
	g := f.Group(group)
	if g == nil {
		return nil
	}
	out := map[string]any{}
	for _, p := range g.Params {
		if _, dup := out[p.Name]; dup {
			continue
		}
		switch {
		case p.Type == c3d.Char && len(p.Dims) > 1:
			out[p.Name] = p.Strings()
		case p.Type == c3d.Char:
			out[p.Name] = p.Text()
		default:
			v := p.Float64s()
			for i := range v {
				v[i] = finite(v[i])
			}
			if len(v) == 1 {
				out[p.Name] = v[0]
			} else {
				out[p.Name] = v
			}
		}
	}
	return out
}

// finite replaces NaN and infinities, which JSON cannot carry, by 0.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

func names(info *C3DInfo, idx []int) []string {
	out := make([]string, len(idx))
	for i, k := range idx {
		out[i] = info.Analog[k].Name
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

func units(info *C3DInfo) []string {
	var out []string
	for _, ch := range info.Analog {
		if !slices.Contains(out, ch.Unit) {
			out = append(out, ch.Unit)
		}
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}
