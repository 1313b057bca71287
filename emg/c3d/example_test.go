package c3d_test

import (
	"bytes"
	"fmt"
	"log"
	"os"

	"github.com/emgcache/emgcache/emg/c3d"
	"github.com/emgcache/emgcache/emg/c3d/c3dtest"
)

func ExampleRead() {
	raw, err := os.ReadFile("testdata/sample30_emgwl.c3d")
	if err != nil {
		log.Fatal(err)
	}
	f, err := c3d.Read(bytes.NewReader(raw))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Processor, f.Param("MANUFACTURER", "COMPANY").Text(), f.PointFrames, "frames")
	for _, ch := range f.Analog {
		fmt.Printf("%s (%s) %v Hz, %d samples, first %.4f\n", ch.Label, ch.Unit, f.AnalogRate, len(ch.Samples), ch.Samples[0])
	}
	// Output:
	// Intel Biogesta 501 frames
	// MG-1 (Volt) 1600 Hz, 16032 samples, first -0.0141
	// MG-2 (Volt) 1600 Hz, 16032 samples, first -0.0141
	// MG-3 (Volt) 1600 Hz, 16032 samples, first -0.0390
	// MG-4 (Volt) 1600 Hz, 16032 samples, first -0.0066
}

func ExampleFile_Param() {
	raw, err := c3dtest.Bytes(c3dtest.File{
		Frames: 1,
		Analog: []c3dtest.Channel{{Label: "EMG1", Unit: "µV", Raw: []float64{12}}},
		Params: []c3dtest.Param{{Group: "SUBJECT", Name: "NAME", Value: "Zoë"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	f, err := c3d.Read(bytes.NewReader(raw))
	if err != nil {
		log.Fatal(err)
	}
	p := f.Param("subject", "name")
	fmt.Println(p.Group, p.Name, p.Type, p.Text())
	fmt.Println(f.Param("ANALOG", "UNITS").Strings(), f.Analog[0].Samples)
	// Output:
	// SUBJECT NAME char Zoë
	// [µV] [12]
}
