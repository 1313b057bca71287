package health_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/health"
)

func TestUIPageIsSelfContained(t *testing.T) {
	r := newRouter(openMemory(t), health.Options{})
	res, body := do(t, r, http.MethodGet, "/api/cache/ui", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	page := string(body)

	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	assert.Contains(t, page, "<canvas", "the charts are drawn on canvases")

	t.Run("no external resources", func(t *testing.T) {
		// Only same-directory links (the JSON endpoints) and a data: icon.
		for _, m := range regexp.MustCompile(`(?i)(?:src|href)\s*=\s*"([^"]*)"`).FindAllStringSubmatch(page, -1) {
			assert.Regexp(t, `^(?:[a-z]+|data:,)$`, m[1], "reference %q", m[0])
		}
		assert.NotRegexp(t, `(?i)https?://|//cdn|@import|url\(`, page)
		assert.NotRegexp(t, `(?i)<script[^>]+src`, page)
	})

	t.Run("content security policy", func(t *testing.T) {
		csp := res.Header.Get("Content-Security-Policy")
		assert.Contains(t, csp, "default-src 'none'")
		assert.Contains(t, csp, "connect-src 'self'")
		assert.NotContains(t, csp, "unsafe-inline")
		for _, tag := range []string{"script", "style"} {
			m := regexp.MustCompile(`(?s)<`+tag+`>(.*?)</`+tag+`>`).FindAllStringSubmatch(page, -1)
			require.Len(t, m, 1, "one inline <%s>", tag)
			sum := sha256.Sum256([]byte(m[0][1]))
			assert.Contains(t, csp, tag+"-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		}
		assert.NotContains(t, page, " style=\"", "inline style attributes would need 'unsafe-inline'")
		assert.False(t, strings.Contains(page, " on") && regexp.MustCompile(`\son[a-z]+\s*=`).MatchString(page), "inline event handlers would need 'unsafe-inline'")
	})
}
