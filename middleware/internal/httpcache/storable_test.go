package httpcache

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestStorable(t *testing.T) {
	auth := http.Header{"Authorization": {"Basic eDp5"}}
	for _, tc := range []struct {
		name   string
		req    http.Header
		status int
		h      http.Header
		store  bool
		reason string
	}{
		{"max-age", nil, 200, http.Header{"Cache-Control": {"max-age=60"}}, true, ""},
		{"no freshness, no validator", nil, 200, http.Header{}, false, ReasonNoFreshness},
		{"no freshness, but a validator", nil, 200, http.Header{"Etag": {`"a"`}}, true, ""},
		{"heuristic", nil, 200, http.Header{"Last-Modified": {date(-time.Hour)}}, true, ""},
		{"any final status with explicit freshness", nil, 500, http.Header{"Cache-Control": {"max-age=60"}}, true, ""},
		{"302 with Expires", nil, 302, http.Header{"Expires": {date(time.Hour)}, "Date": {date(0)}}, true, ""},
		{"a 500 without explicit freshness", nil, 500, http.Header{"Etag": {`"a"`}}, false, ReasonNoFreshness},
		{"a public 500 with a validator", nil, 500, http.Header{"Etag": {`"a"`}, "Cache-Control": {"public"}}, true, ""},
		{"206", nil, 206, http.Header{"Cache-Control": {"max-age=60"}}, false, ReasonStatus},
		{"304", nil, 304, http.Header{"Cache-Control": {"max-age=60"}}, false, ReasonStatus},
		{"1xx", nil, 103, http.Header{"Cache-Control": {"max-age=60"}}, false, ReasonStatus},
		{"response no-store", nil, 200, http.Header{"Cache-Control": {"max-age=60, no-store"}}, false, ReasonNoStore},
		{"request no-store", http.Header{"Cache-Control": {"no-store"}}, 200, http.Header{"Cache-Control": {"max-age=60"}}, false, ReasonNoStore},
		{"private", nil, 200, http.Header{"Cache-Control": {"max-age=60, private"}}, false, ReasonPrivate},
		{"qualified private is stored without the field", nil, 200, http.Header{"Cache-Control": {`max-age=60, private="X-Secret"`}}, true, ""},
		{"Authorization without permission", auth, 200, http.Header{"Cache-Control": {"max-age=60"}}, false, ReasonAuthorization},
		{"Authorization with public", auth, 200, http.Header{"Cache-Control": {"max-age=60, public"}}, true, ""},
		{"Authorization with s-maxage", auth, 200, http.Header{"Cache-Control": {"s-maxage=60"}}, true, ""},
		{"Authorization with must-revalidate", auth, 200, http.Header{"Cache-Control": {"max-age=60, must-revalidate"}}, true, ""},
		{"Vary: *", nil, 200, http.Header{"Cache-Control": {"max-age=60"}, "Vary": {"Accept, *"}}, false, ReasonVaryStar},
		{"Set-Cookie", nil, 200, http.Header{"Cache-Control": {"max-age=60"}, "Set-Cookie": {"a=b"}}, false, ReasonSetCookie},
		{"Set-Cookie named by no-cache", nil, 200, http.Header{"Cache-Control": {`max-age=60, no-cache="Set-Cookie"`}, "Set-Cookie": {"a=b"}}, true, ""},
		{"no-cache with a validator", nil, 200, http.Header{"Cache-Control": {"no-cache"}, "Etag": {`"a"`}}, true, ""},
		{"no-cache without a validator", nil, 200, http.Header{"Cache-Control": {"no-cache, max-age=60"}}, false, ReasonNoFreshness},
		{"expired with no validator", nil, 200, http.Header{"Expires": {"0"}}, false, ReasonNoFreshness},
		{"must-understand a known status overrides no-store", nil, 200, http.Header{"Cache-Control": {"max-age=60, must-understand, no-store"}}, true, ""},
		{"must-understand an unknown status", nil, 599, http.Header{"Cache-Control": {"max-age=60, must-understand, no-store"}}, false, ReasonStatus},
		{"an unknown status without must-understand", nil, 599, http.Header{"Cache-Control": {"max-age=60"}}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.req == nil {
				tc.req = http.Header{}
			}
			d, targeted := Directives(tc.h, nil)
			got := Storable(tc.req, tc.status, tc.h, d, targeted, hc10, t0)
			if got.Store != tc.store || got.Reason != tc.reason {
				t.Fatalf("Storable = %+v, want store %v reason %q", got, tc.store, tc.reason)
			}
		})
	}
}

func TestStorableStripsQualifiedFields(t *testing.T) {
	h := http.Header{"Cache-Control": {`max-age=60, private="X-Secret", no-cache="Set-Cookie"`}, "Set-Cookie": {"a=b"}}
	got := Storable(http.Header{}, 200, h, ParseCacheControl(h["Cache-Control"]), false, hc10, t0)
	if !got.Store || !slices.Equal(got.Strip, []string{"X-Secret", "Set-Cookie"}) {
		t.Fatalf("Storable = %+v", got)
	}
}

func TestStaleForbidden(t *testing.T) {
	for _, tc := range []struct {
		cc   string
		want bool
	}{
		{"max-age=1", false},
		{"max-age=1, must-revalidate", true},
		{"max-age=1, proxy-revalidate", true},
		{"s-maxage=1", true},
		{"no-cache", true},
	} {
		t.Run(tc.cc, func(t *testing.T) {
			if got := StaleForbidden(ParseCacheControl([]string{tc.cc})); got != tc.want {
				t.Fatalf("StaleForbidden(%q) = %v", tc.cc, got)
			}
		})
	}
}

// One reading of Vary serves both the storability decision and the
// middleware's variant keys, so that they cannot disagree on a line.
func TestParseVary(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		names []string
		star  bool
	}{
		{"none", nil, nil, false},
		{"canonical, sorted, unique", []string{"accept-encoding, Accept", "ACCEPT", ""}, []string{"Accept", "Accept-Encoding"}, false},
		{"empty members", []string{" , Accept ,,\t"}, []string{"Accept"}, false},
		{"star", []string{"Accept, *"}, []string{"Accept"}, true},
		{"star alone on a line", []string{"Accept", "*"}, []string{"Accept"}, true},
		{"star with a value is no field name", []string{"*=x"}, nil, true},
		{"a member with a space", []string{"Accept Language"}, nil, true},
		{"a member with a parameter", []string{"Accept;q=1"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names, star := ParseVary(tt.lines)
			if !slices.Equal(names, tt.names) || star != tt.star {
				t.Errorf("ParseVary(%q) = %q, %v; want %q, %v", tt.lines, names, star, tt.names, tt.star)
			}
			h := http.Header{"Cache-Control": {"max-age=60"}}
			if tt.lines != nil {
				h["Vary"] = tt.lines
			}
			d, targeted := Directives(h, nil)
			if dec := Storable(http.Header{}, http.StatusOK, h, d, targeted, Heuristic{}, time.Now()); dec.Store == tt.star {
				t.Errorf("Storable says store %v for Vary %q, ParseVary star %v", dec.Store, tt.lines, tt.star)
			}
		})
	}
}
