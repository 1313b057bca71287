package httpcache

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseCacheControl: hostile Cache-Control field lines never panic;
// every number read is a delta-seconds within RFC 9111's bound or Absent;
// and directives without quotes mean the same split over several lines.
func FuzzParseCacheControl(f *testing.F) {
	for _, s := range []string{
		"max-age=60", "no-store", `private="Set-Cookie", max-age=5`, "s-maxage=99999999999999999999",
		`no-cache="a,b", must-revalidate`, "max-age=1, max-age=0", " , ,max-age = 3 ", `a="\`, `stale-while-revalidate="10"`,
		"max-stale", "min-fresh=-1", "only-if-cached, no-transform",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := ParseCacheControl([]string{s})
		for _, v := range []int64{d.MaxAge, d.SMaxAge, d.StaleWhileRevalidate, d.StaleIfError} {
			if v != Absent && (v < 0 || v > MaxDelta) {
				t.Fatalf("%q: delta %d out of range", s, v)
			}
		}
		if !strings.Contains(s, `"`) {
			if split := ParseCacheControl(strings.Split(s, ",")); !reflect.DeepEqual(split, d) {
				t.Fatalf("%q: %+v as one line, %+v split at its commas", s, d, split)
			}
		}
		rd := ParseRequest(http.Header{"Cache-Control": {s}})
		for _, v := range []int64{rd.MaxAge, rd.MinFresh, rd.MaxStale} {
			if v != Absent && (v < 0 || v > MaxDelta) {
				t.Fatalf("%q: request delta %d out of range", s, v)
			}
		}
	})
}
