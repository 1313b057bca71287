package httpcache_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/emgcache/emgcache/middleware/internal/httpcache"
)

// A proxy's whole decision for one response, without any I/O: which
// directives apply, whether to store, how old the response is, and whether
// it may answer a later request.
func Example() {
	sent := time.Date(2026, time.December, 1, 12, 0, 0, 0, time.UTC)
	arrived := sent.Add(time.Second)
	h := http.Header{
		"Date":              {httpcache.FormatHTTPDate(sent)},
		"Cache-Control":     {"max-age=10"},
		"Cdn-Cache-Control": {"max-age=600"},
		"Age":               {"30"},
	}
	d, targeted := httpcache.Directives(h, []string{"Emgcache-Cache-Control", httpcache.CDNCacheControl})
	dec := httpcache.Storable(http.Header{}, 200, h, d, targeted, httpcache.Heuristic{}, arrived)
	initial := httpcache.InitialAge(h, sent, arrived)
	age := httpcache.CurrentAge(initial, arrived, arrived.Add(time.Minute))
	use := httpcache.Reusable(httpcache.ParseRequest(http.Header{}), dec.Lifetime.Fresh, age, dec.StaleForbidden)
	fmt.Println(d.Source, dec.Store, dec.Lifetime.Fresh, initial, age, use == httpcache.UseFresh)
	// Output: Cdn-Cache-Control true 10m0s 31s 1m31s true
}
