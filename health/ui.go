package health

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"net/http"
	"strings"
)

// uiPage is the whole dashboard: markup, style and script in one file, with
// no external resource, so it works offline and behind any proxy.
//
//go:embed ui.html
var uiPage []byte

// uiPolicy allows exactly the page's own inline script and style (by hash)
// and requests to this origin, so that nothing injected into the page could
// run or send data elsewhere.
var uiPolicy = "default-src 'none'; connect-src 'self'; img-src 'self' data:; " +
	"script-src " + inlineHashes(uiPage, "script") + "; " +
	"style-src " + inlineHashes(uiPage, "style") + "; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func serveUI(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", uiPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(uiPage)
}

// inlineHashes returns the CSP sources ('sha256-...') of every <tag>
// element of page, computed from the embedded bytes so that editing the
// page can never leave a stale hash behind. It expects the bare tag, without
// attributes, which is how ui.html writes them.
func inlineHashes(page []byte, tag string) string {
	open, end := []byte("<"+tag+">"), []byte("</"+tag+">")
	var sources []string
	for rest := page; ; {
		i := bytes.Index(rest, open)
		if i < 0 {
			break
		}
		rest = rest[i+len(open):]
		j := bytes.Index(rest, end)
		if j < 0 {
			break
		}
		sum := sha256.Sum256(rest[:j])
		sources = append(sources, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		rest = rest[j+len(end):]
	}
	if len(sources) == 0 {
		return "'none'"
	}
	return strings.Join(sources, " ")
}
