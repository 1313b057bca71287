package middleware

import (
	"bytes"
	"crypto/tls"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keyFor returns the base key of r for the KeyFunc value v, whose
// namespace ns has the version version, or false when v is "" or r's query
// cannot be normalised (a bad escape, a ';' separator, too many
// parameters): net/url would drop parts of such a query, and a key must
// never merge two requests a handler may tell apart. host, when not "",
// replaces the request's Host (Options.CanonicalHost).
func keyFor(r *http.Request, prefix, v, ns, version string, keyHeaders []string, host string) (requestKey, bool) {
	var stack [512]byte
	base, ok := appendBaseInput(stack[:0], r, keyHeaders, host)
	if !ok {
		return requestKey{}, false
	}
	var gb [maxGroup]byte
	group, ok := appendGroup(gb[:0], prefix, v)
	if !ok {
		return requestKey{}, false
	}
	return keyFromBaseInput(group, ns, version, base), true
}

const testHash = "0123456789abcdef0123456789abcdef"

// keyedHeader is keyed through Options.KeyHeaders, variedHeader through a
// vary record.
const (
	keyedHeader  = "X-Forwarded-Host"
	variedHeader = "Accept"
)

var testRecord = &varyRecord{nonce: [16]byte{1, 2, 3}, names: []string{variedHeader}}

// fuzzRequest builds a request from fuzz input; a header string splits into
// field lines at '\n', and "" means the header is absent.
func fuzzRequest(host, target string, https bool, keyed, varied string) (*http.Request, bool) {
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, false
	}
	r := &http.Request{Method: http.MethodGet, Host: host, URL: u, Header: http.Header{}}
	if https {
		r.TLS = &tls.ConnectionState{}
	}
	if keyed != "" {
		r.Header[keyedHeader] = strings.Split(keyed, "\n")
	}
	if varied != "" {
		r.Header[variedHeader] = strings.Split(varied, "\n")
	}
	return r, true
}

// meaning is what a handler can tell apart, computed independently of the
// key code: two requests with equal meanings must share a key, two with
// different ones must not.
type meaning struct {
	https         bool
	host, path    string
	query         url.Values
	keyed, varied []string
}

// meaningOf returns r's meaning, or false when r must not be cached because
// net/url would not read its whole query.
func meaningOf(r *http.Request) (meaning, bool) {
	raw := r.URL.RawQuery
	if raw != "" && len(strings.Split(raw, "&")) > maxQueryParams {
		return meaning{}, false
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return meaning{}, false
	}
	host := []byte(r.Host)
	for i, c := range host {
		if 'A' <= c && c <= 'Z' {
			host[i] = c + 'a' - 'A'
		}
	}
	return meaning{
		https:  r.TLS != nil,
		host:   string(host),
		path:   r.URL.EscapedPath(),
		query:  q,
		keyed:  r.Header[keyedHeader],
		varied: r.Header[variedHeader],
	}, true
}

func (m meaning) sameBase(o meaning) bool {
	return m.https == o.https && m.host == o.host && m.path == o.path &&
		reflect.DeepEqual(m.query, o.query) && reflect.DeepEqual(m.keyed, o.keyed)
}

// FuzzKey checks the key function: it never panics, it refuses exactly the
// requests whose query cannot be normalised, and two requests share a key
// (base or variant) exactly when a handler could not tell them apart. The
// encoding is checked as well as the digest, so that a collision would have
// to come from SHA-256 itself.
func FuzzKey(f *testing.F) {
	seeds := []struct {
		h1, t1 string
		s1     bool
		k1, v1 string
		h2, t2 string
		s2     bool
		k2, v2 string
	}{
		{"emg.example", "/a?x=1&y=2", false, "", "", "emg.example", "/a?y=2&x=1", false, "", ""},
		{"emg.example", "/a?x=1&x=2", false, "", "", "emg.example", "/a?x=2&x=1", false, "", ""},
		{"EMG.example", "/a", false, "", "", "emg.example", "/a", false, "", ""},
		{"emg.example", "/a%2Fb", false, "", "", "emg.example", "/a/b", false, "", ""},
		{"emg.example", "/a?q=%41", false, "", "", "emg.example", "/a?q=A", false, "", ""},
		{"emg.example", "/a?a=1&b=2", false, "", "", "emg.example", "/a?a=1%26b%3D2", false, "", ""},
		{"emg.example", "/a?x=", false, "", "", "emg.example", "/a?x", false, "", ""},
		{"emg.example", "/a?x=1;y=2", false, "", "", "emg.example", "/a?x=1", false, "", ""},
		{"emg.example", "/a", true, "", "", "emg.example", "/a", false, "", ""},
		{"emg.example", "/a", false, "evil", "", "emg.example", "/a", false, "", ""},
		{"emg.example", "/a", false, "a\nb", "", "emg.example", "/a", false, "a,b", ""},
		{"emg.example", "/a", false, "\n", "", "emg.example", "/a", false, "", ""},
		{"emg.example", "/a", false, "", "text/csv", "emg.example", "/a", false, "", "application/json"},
		{"emg.example", "/ab", false, "", "", "emg.example", "/a", false, "b", ""},
		{"a", "/b", false, "", "", "ab", "/", false, "", ""},
	}
	for _, s := range seeds {
		f.Add(s.h1, s.t1, s.s1, s.k1, s.v1, s.h2, s.t2, s.s2, s.k2, s.v2)
	}
	keyed := []string{keyedHeader}
	f.Fuzz(func(t *testing.T, h1, t1 string, s1 bool, k1, v1, h2, t2 string, s2 bool, k2, v2 string) {
		r1, ok1 := fuzzRequest(h1, t1, s1, k1, v1)
		r2, ok2 := fuzzRequest(h2, t2, s2, k2, v2)
		if !ok1 || !ok2 {
			return
		}
		m1, c1 := meaningOf(r1)
		m2, c2 := meaningOf(r2)
		key1, got1 := keyFor(r1, DefaultKeyPrefix, testHash, "ns", testVersion, keyed, "")
		key2, got2 := keyFor(r2, DefaultKeyPrefix, testHash, "ns", testVersion, keyed, "")
		require.Equal(t, c1, got1, "request 1 cacheable")
		require.Equal(t, c2, got2, "request 2 cacheable")
		if !c1 || !c2 {
			return
		}
		in1, _ := appendBaseInput(nil, r1, keyed, "")
		in2, _ := appendBaseInput(nil, r2, keyed, "")
		same := m1.sameBase(m2)
		require.Equal(t, same, bytes.Equal(in1, in2), "encodings of %+v and %+v", m1, m2)
		require.Equal(t, same, key1.base == key2.base, "base keys of %+v and %+v", m1, m2)

		sameVariant := same && reflect.DeepEqual(m1.varied, m2.varied)
		require.Equal(t, sameVariant, variantKey(&key1, testRecord, r1.Header) == variantKey(&key2, testRecord, r2.Header),
			"variant keys of %+v and %+v", m1, m2)
		require.NotEqual(t, key1.base, variantKey(&key1, testRecord, r1.Header))
		require.True(t, strings.HasPrefix(key1.base, "emg_analysis:"+testHash+":"))
	})
}

func TestPlainValue(t *testing.T) {
	cases := []struct {
		name, in string
		plain    bool
	}{
		{"hex hash", testHash, true},
		{"sha512", strings.Repeat("a", 128), true},
		{"path", "/api/emg/analysis/x", true},
		{"glob bytes", "a*b?[c]", true},
		{"empty", "", false},
		{"too long", strings.Repeat("a", 129), false},
		{"space", "a b", false},
		{"newline", "a\nb", false},
		{"hash marker", "#0123", false},
		{"non-ASCII", "caf\u00e9", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.plain, plain(tc.in))
		})
	}
}

func TestKeyForAllocations(t *testing.T) {
	r := &http.Request{Method: http.MethodGet, Host: "emg.example", URL: &url.URL{Path: "/api/emg/analysis/" + testHash, RawQuery: "window=50&channel=EMG1"}, Header: http.Header{}}
	allocs := testing.AllocsPerRun(100, func() { _, _ = keyFor(r, DefaultKeyPrefix, testHash, "ns", testVersion, nil, "") })
	assert.LessOrEqual(t, allocs, 1.0, "only the key string")
}

const testVersion = "0123456789abcdef01234567"

func TestKeyForVersion(t *testing.T) {
	r := &http.Request{Method: http.MethodGet, Host: "emg.example", URL: &url.URL{Path: "/api/emg/analysis/" + testHash}, Header: http.Header{}}
	k1, ok := keyFor(r, DefaultKeyPrefix, testHash, "ns", testVersion, nil, "")
	require.True(t, ok)
	k2, ok := keyFor(r, DefaultKeyPrefix, testHash, "ns", "fedcba9876543210fedcba98", nil, "")
	require.True(t, ok)
	again, _ := keyFor(r, DefaultKeyPrefix, testHash, "ns", testVersion, nil, "")
	assert.Equal(t, k1.base, again.base)
	assert.NotEqual(t, k1.base, k2.base, "a new version changes every key of the namespace")
	assert.NotEqual(t, variantKey(&k1, testRecord, r.Header), variantKey(&k2, testRecord, r.Header))
}

func TestNamespaceFor(t *testing.T) {
	c := config{nsPrefix: DefaultNamespacePrefix}
	ns, ok := c.namespaceFor(testHash)
	require.True(t, ok)
	assert.Equal(t, "emg_file:"+testHash, ns, "by default a file hash shares the file's namespace with patterns")

	c.nsPrefix = "doc:"
	ns, ok = c.namespaceFor("/some/path")
	require.True(t, ok)
	assert.Equal(t, "doc:/some/path", ns, "a plain value is used as it is")

	long := strings.Repeat("x", 200)
	hashed, ok := c.namespaceFor(long)
	require.True(t, ok)
	assert.Regexp(t, `^doc:#[0-9a-f]{32}$`, hashed, "any other value is hashed")
	assert.NotEqual(t, hashed, func() string { s, _ := c.namespaceFor(long + "y"); return s }())
	_, ok = c.namespaceFor("")
	assert.False(t, ok)
}

func TestKeyForPrefix(t *testing.T) {
	r := &http.Request{Method: http.MethodGet, Host: "emg.example", URL: &url.URL{Path: "/x"}, Header: http.Header{}}
	k, ok := keyFor(r, "doc:", "/x", "ns", testVersion, nil, "")
	require.True(t, ok)
	assert.Regexp(t, `^doc:/x:[0-9a-f]{32}$`, k.base)
	k, ok = keyFor(r, "doc:", "a b", "ns", testVersion, nil, "")
	require.True(t, ok)
	assert.Regexp(t, `^doc:#[0-9a-f]{32}:[0-9a-f]{32}$`, k.base, "a value that is not plain never reaches the key")
	assert.Equal(t, k.group()+"", k.base[:len(k.base)-32])
}
