package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkRead/value=1KiB/run=sequential/client=go-redis-GET-2   	    8478	     30000 ns/op	  30.90 MB/s	    1368 B/op	       7 allocs/op
BenchmarkRead/value=1KiB/run=sequential/client=go-redis-GET-2   	    8478	     34000 ns/op	  30.90 MB/s	    1368 B/op	       7 allocs/op
BenchmarkRead/value=1KiB/run=sequential/client=store-Get-2      	  321199	       300 ns/op	1387.28 MB/s	    1024 B/op	       1 allocs/op
BenchmarkRead/value=1KiB/run=sequential/client=store-Get-2      	  321199	       310 ns/op	1387.28 MB/s	    1024 B/op	       1 allocs/op
BenchmarkRead/value=1KiB/run=sequential/client=rueidis-GET-2    	    7879	     33000 ns/op	  35.59 MB/s	    1202 B/op	       1 allocs/op
BenchmarkStampede/client=aside-2 	1	50000000 ns/op	1.000 loader-calls/op
PASS
`

func TestWriteMarkdown(t *testing.T) {
	s := newResults([]string{"client"})
	if err := s.read(strings.NewReader(sample)); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s.writeMarkdown(&out)
	for _, want := range []string{
		"| case | 1KiB sequential |",
		"| go-redis-GET | **1** (32 µs) |",
		"| store-Get | 0.0095× |",
		"| rueidis-GET | ≈1.03× |",
		"| 1KiB sequential | store-Get | 305 ns | 2% | 0.0095× | 1024 | 1 | 2 |",
		"| all | aside | 50 ms | 0% | 1 | 1 | 1 |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
