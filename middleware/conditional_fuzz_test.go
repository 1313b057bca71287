package middleware

import (
	"strings"
	"testing"
)

// FuzzNoneMatch: If-None-Match lists never panic, "*" matches whatever
// the entity tag, a list holding the exact tag matches, and W/ is ignored.
func FuzzNoneMatch(f *testing.F) {
	for _, s := range [][2]string{
		{`"a"`, `"a"`}, {`W/"a", "b"`, `"b"`}, {`*`, `"x"`}, {`"a" "b"`, `"b"`}, {`"`, `"a"`}, {`W/`, `W/"a"`}, {`"a\"b"`, `"a"`},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, list, etag string) {
		got := noneMatchHits([]string{list}, etag)
		if strings.TrimSpace(list) == "*" && !got {
			t.Fatalf("* must match %q", etag)
		}
		tag, rest := scanETag(etag)
		if tag == "" || rest != "" {
			return
		}
		// A well-formed tag matches a list that holds it, strong or weak.
		for _, l := range []string{etag, "W/" + strings.TrimPrefix(etag, "W/"), `"zz", ` + etag} {
			if !noneMatchHits([]string{l}, etag) {
				t.Fatalf("%q does not match %q", l, etag)
			}
		}
		if got && !strings.Contains(list, strings.TrimPrefix(etag, "W/")) && !strings.Contains(list, "*") {
			t.Fatalf("%q matched %q it does not contain", list, etag)
		}
	})
}
