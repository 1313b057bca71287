package middleware

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNoneMatchHits(t *testing.T) {
	cases := []struct {
		lines []string
		etag  string
		want  bool
	}{
		{[]string{`"a"`}, `"a"`, true},
		{[]string{`W/"a"`}, `"a"`, true},
		{[]string{`"a"`}, `W/"a"`, true},
		{[]string{`"x", "a"`}, `"a"`, true},
		{[]string{`"x"`, `"a"`}, `"a"`, true},
		{[]string{`"a,b"`}, `"a,b"`, true},
		{[]string{`"a,b"`}, `"a"`, false},
		{[]string{`*`}, `"a"`, true},
		{[]string{`a`}, `"a"`, false},
		{[]string{`"a`}, `"a"`, false},
		{[]string{``}, `"a"`, false},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, noneMatchHits(tc.lines, tc.etag), "%q vs %s", tc.lines, tc.etag)
	}
}

func TestNotModifiedOnlyFor200(t *testing.T) {
	e := &entry{status: http.StatusNotFound, headers: []header{{"Etag", []string{`"a"`}}}}
	assert.False(t, notModified(http.Header{"If-None-Match": {`"a"`}}, e))
	e.status = http.StatusOK
	assert.True(t, notModified(http.Header{"If-None-Match": {`"a"`}}, e))
	assert.False(t, notModified(http.Header{"If-Modified-Since": {"garbage"}}, e))
}
