#!/usr/bin/env bash
# Checks the dependency edges the modules promise, each with the workspace
# off so that a module is judged by its own go.mod, as it is once published:
#
#   - importing store pulls in no router, HTTP client or metrics library;
#   - store, patterns and middleware require no OpenTelemetry module, so
#     that modules requiring them do not inherit it: their instrumentation
#     lives in the emgotel module, behind dependency-free hooks;
#   - importing health/client pulls in neither the Redis client nor the
#     breaker, only what an HTTP client of a JSON API needs;
#   - the health module requires neither patterns nor chromedp, so modules
#     requiring health do not inherit them (the browser test lives in the
#     health/browsertest module).
#   - the store module requires no codec library: MessagePack and CBOR
#     live in codec modules of their own (codec/msgpack);
#   - emg/c3d uses the standard library only, and emg adds gonum's FFT and
#     nothing else;
#   - emgkey, the EMG key layout, imports only the standard library;
#   - internal (the singleflight, the list, the rate-limited log and the clock that
#     store, patterns and middleware share) uses the standard library only,
#     and its module requires nothing, so that it adds nothing to store's
#     weight.
#
# Each failure names the module and the offending packages or modules.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
status=0

# packages DIR PATTERN REGEX WHAT: the non-test packages that DIR/PATTERN
# imports, directly or not, must not match REGEX.
packages() {
	local bad
	bad=$(cd "$1" && GOWORK=off "$GO" list -deps "$2" | grep -E "$3" || true)
	if [ -n "$bad" ]; then
		echo "deps-check: $1/$2 $4 but imports:" $bad
		status=1
	fi
}

# modules DIR REGEX WHAT: the build list of the module in DIR, less the
# module itself, which modules requiring it inherit, must not match REGEX.
modules() {
	local bad
	bad=$(cd "$1" && GOWORK=off "$GO" list -m all | awk 'NR > 1 {print $1}' | grep -E "$2" || true)
	if [ -n "$bad" ]; then
		echo "deps-check: module $1 $3 but requires:" $bad
		status=1
	fi
}

# nonstd DIR PATTERN ALLOWED WHAT: every non-standard package DIR/PATTERN
# imports, directly or not, must match ALLOWED.
nonstd() {
	local bad
	bad=$(cd "$1" && GOWORK=off "$GO" list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' "$2" | grep -vE "$3" || true)
	if [ -n "$bad" ]; then
		echo "deps-check: $1/$2 $4 but imports:" $bad
		status=1
	fi
}

packages store ./... 'gorilla/mux|go-retryablehttp|prometheus|go-chi|opentelemetry' \
	"must stay light (no router, HTTP client or metrics library)"
modules store 'vmihailenco/msgpack|fxamacker/cbor|ugorji/go' \
	"must not require a codec library (they live in codec/ modules)"
packages health ./client 'redis/rueidis|sony/gobreaker|emgcache/store|prometheus|gorilla/mux' \
	"is an HTTP client of a JSON API"
for m in store patterns middleware; do
	modules $m '^go.opentelemetry.io/' "must not require OpenTelemetry (emgotel instruments it)"
done
modules health '^github.com/emgcache/emgcache/patterns$|chromedp' \
	"must not require patterns or the browser test's chromedp"
nonstd emgkey ./... '^github.com/emgcache/emgcache/emgkey$' "imports only the standard library"
nonstd internal ./... '^github.com/emgcache/emgcache/internal/' "uses the standard library only"
modules internal . "must require nothing"
nonstd emg ./c3d '^github.com/emgcache/emgcache/emg/c3d$' "uses the standard library only"
nonstd emg ./... '^github.com/emgcache/emgcache/emg(/|$)|^gonum.org/v1/gonum/' "needs gonum only"
exit $status
