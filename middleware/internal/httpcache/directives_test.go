package httpcache

import (
	"net/http"
	"slices"
	"testing"
)

func TestParseCacheControl(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		check func(Response) bool
	}{
		{"max-age", []string{"max-age=60"}, func(d Response) bool { return d.MaxAge == 60 }},
		{"names are case-insensitive", []string{"MAX-AGE=60"}, func(d Response) bool { return d.MaxAge == 60 }},
		{"quoted max-age is accepted", []string{`max-age="60"`}, func(d Response) bool { return d.MaxAge == 60 }},
		{"duplicate max-age keeps the smaller", []string{"max-age=60, max-age=10"}, func(d Response) bool { return d.MaxAge == 10 }},
		{"duplicate across lines", []string{"max-age=10", "max-age=60"}, func(d Response) bool { return d.MaxAge == 10 }},
		{"malformed number is 0", []string{"max-age=1a"}, func(d Response) bool { return d.MaxAge == 0 }},
		{"negative number is 0", []string{"max-age=-1"}, func(d Response) bool { return d.MaxAge == 0 }},
		{"huge number is 2^31", []string{"max-age=99999999999999"}, func(d Response) bool { return d.MaxAge == MaxDelta }},
		{"s-maxage", []string{"s-maxage=5"}, func(d Response) bool { return d.SMaxAge == 5 && d.MaxAge == Absent }},
		{"no-store", []string{"no-store"}, func(d Response) bool { return d.NoStore }},
		{"unqualified no-cache", []string{"no-cache"}, func(d Response) bool { return d.NoCache && d.NoCacheFields == nil }},
		{"qualified no-cache", []string{`no-cache="Set-Cookie, x-a"`}, func(d Response) bool {
			return !d.NoCache && slices.Equal(d.NoCacheFields, []string{"Set-Cookie", "X-A"})
		}},
		{"empty qualified no-cache is unqualified", []string{`no-cache=""`}, func(d Response) bool { return d.NoCache }},
		{"unqualified private", []string{"private"}, func(d Response) bool { return d.Private }},
		{"qualified private", []string{`private="X-Secret"`}, func(d Response) bool {
			return !d.Private && slices.Equal(d.PrivateFields, []string{"X-Secret"})
		}},
		{"public", []string{"public"}, func(d Response) bool { return d.Public }},
		{"must-revalidate", []string{"must-revalidate"}, func(d Response) bool { return d.MustRevalidate && !d.ProxyRevalidate }},
		{"proxy-revalidate", []string{"proxy-revalidate"}, func(d Response) bool { return d.ProxyRevalidate }},
		{"stale windows", []string{"stale-while-revalidate=3, stale-if-error=4"}, func(d Response) bool {
			return d.StaleWhileRevalidate == 3 && d.StaleIfError == 4
		}},
		{"unknown directives ignored", []string{"foo, bar=baz, max-age=7"}, func(d Response) bool { return d.MaxAge == 7 }},
		{"comma inside quotes does not split", []string{`private="a,max-age=9", max-age=3`}, func(d Response) bool {
			return d.MaxAge == 3 && slices.Equal(d.PrivateFields, []string{"A"})
		}},
		{"nothing", nil, func(d Response) bool { return d.MaxAge == Absent && !d.NoStore && d.Source == "Cache-Control" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := ParseCacheControl(tc.lines); !tc.check(d) {
				t.Fatalf("ParseCacheControl(%q) = %+v", tc.lines, d)
			}
		})
	}
}

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.Header
		want Request
	}{
		{"none", http.Header{}, Request{MaxAge: Absent, MinFresh: Absent, MaxStale: Absent}},
		{"no-cache", http.Header{"Cache-Control": {"no-cache"}}, Request{NoCache: true, MaxAge: Absent, MinFresh: Absent, MaxStale: Absent}},
		{"Pragma without Cache-Control", http.Header{"Pragma": {"no-cache"}}, Request{NoCache: true, MaxAge: Absent, MinFresh: Absent, MaxStale: Absent}},
		{"Pragma ignored beside Cache-Control", http.Header{"Pragma": {"no-cache"}, "Cache-Control": {"max-age=5"}}, Request{MaxAge: 5, MinFresh: Absent, MaxStale: Absent}},
		{"max-stale without value", http.Header{"Cache-Control": {"max-stale"}}, Request{MaxAge: Absent, MinFresh: Absent, MaxStale: MaxDelta}},
		{"max-stale with value", http.Header{"Cache-Control": {"max-stale=30"}}, Request{MaxAge: Absent, MinFresh: Absent, MaxStale: 30}},
		{"min-fresh", http.Header{"Cache-Control": {"min-fresh=10"}}, Request{MaxAge: Absent, MinFresh: 10, MaxStale: Absent}},
		{"only-if-cached", http.Header{"Cache-Control": {"only-if-cached"}}, Request{OnlyIfCached: true, MaxAge: Absent, MinFresh: Absent, MaxStale: Absent}},
		{"no-store", http.Header{"Cache-Control": {"no-store"}}, Request{NoStore: true, MaxAge: Absent, MinFresh: Absent, MaxStale: Absent}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseRequest(tc.h); got != tc.want {
				t.Fatalf("ParseRequest(%v) = %+v, want %+v", tc.h, got, tc.want)
			}
		})
	}
}

func TestParseTargeted(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		ok    bool
		check func(Response) bool
	}{
		{"max-age", []string{"max-age=3600"}, true, func(d Response) bool { return d.MaxAge == 3600 }},
		{"max-age past 2^31 is 2^31", []string{"max-age=99999999999"}, true, func(d Response) bool { return d.MaxAge == MaxDelta }},
		{"extension directive", []string{"foobar, max-age=3600"}, true, func(d Response) bool { return d.MaxAge == 3600 }},
		{"string max-age is ignored, field valid", []string{`max-age="10000"`}, true, func(d Response) bool { return d.MaxAge == Absent }},
		{"no-store", []string{"no-store"}, true, func(d Response) bool { return d.NoStore }},
		{"no-store=?0 is off", []string{"no-store=?0"}, true, func(d Response) bool { return !d.NoStore }},
		{"private", []string{"private"}, true, func(d Response) bool { return d.Private }},
		{"private with field names", []string{`private="x-a"`}, true, func(d Response) bool { return !d.Private && d.PrivateFields[0] == "X-A" }},
		{"no-cache", []string{"no-cache"}, true, func(d Response) bool { return d.NoCache }},
		{"parameters allowed", []string{"max-age=60;foo=bar, public"}, true, func(d Response) bool { return d.MaxAge == 60 && d.Public }},
		{"inner list", []string{"foo=(a b), max-age=5"}, true, func(d Response) bool { return d.MaxAge == 5 }},
		{"two lines", []string{"max-age=5", "public"}, true, func(d Response) bool { return d.MaxAge == 5 && d.Public }},
		{"later duplicate wins", []string{"max-age=5, max-age=9"}, true, func(d Response) bool { return d.MaxAge == 9 }},
		{"unknown type", []string{"max-age=10000, &&&&&"}, false, nil},
		{"space before =", []string{"max-age =100"}, false, nil},
		{"space after =", []string{"max-age= 100"}, false, nil},
		{"upper-case key", []string{"MaX-aGe=3600"}, false, nil},
		{"trailing comma", []string{"max-age=1,"}, false, nil},
		{"sixteen-digit integer", []string{"max-age=1234567890123456"}, false, nil},
		{"unterminated string", []string{`private="a`}, false, nil},
		{"decimal is a valid wrong type", []string{"max-age=1.5"}, true, func(d Response) bool { return d.MaxAge == Absent }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := ParseTargeted(CDNCacheControl, tc.lines)
			if ok != tc.ok {
				t.Fatalf("ParseTargeted(%q) ok = %v, want %v", tc.lines, ok, tc.ok)
			}
			if ok && !tc.check(d) {
				t.Fatalf("ParseTargeted(%q) = %+v", tc.lines, d)
			}
		})
	}
}

func TestDirectivesPrecedence(t *testing.T) {
	const own = "Emgcache-Cache-Control"
	targeted := []string{own, CDNCacheControl, SurrogateControl}
	for _, tc := range []struct {
		name       string
		h          http.Header
		wantSource string
		wantMaxAge int64
	}{
		{"Cache-Control alone", http.Header{"Cache-Control": {"max-age=1"}}, "Cache-Control", 1},
		{"CDN-Cache-Control replaces Cache-Control", http.Header{"Cache-Control": {"max-age=1"}, CDNCacheControl: {"max-age=3600"}}, CDNCacheControl, 3600},
		{"the own field replaces CDN-Cache-Control", http.Header{own: {"max-age=7"}, CDNCacheControl: {"max-age=3600"}}, own, 7},
		{"an invalid own field falls back", http.Header{own: {"max-age =7"}, CDNCacheControl: {"max-age=3600"}}, CDNCacheControl, 3600},
		{"an invalid CDN field falls back", http.Header{"Cache-Control": {"max-age=1"}, CDNCacheControl: {"&&"}}, "Cache-Control", 1},
		{"Surrogate-Control replaces Cache-Control", http.Header{"Cache-Control": {"max-age=1"}, SurrogateControl: {"max-age=60"}}, SurrogateControl, 60},
		{"CDN-Cache-Control replaces Surrogate-Control", http.Header{CDNCacheControl: {"max-age=5"}, SurrogateControl: {"max-age=60"}}, CDNCacheControl, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := Directives(tc.h, targeted)
			if d.Source != tc.wantSource || d.MaxAge != tc.wantMaxAge {
				t.Fatalf("Directives = source %q max-age %d, want %q %d", d.Source, d.MaxAge, tc.wantSource, tc.wantMaxAge)
			}
		})
	}
}
