#!/usr/bin/env bash
# Runs the public HTTP caching conformance suite (the npm package
# http-cache-tests) against examples/proxy and prints its score: required
# tests passed, raw and counting a test only when its prerequisites pass, as
# the suite's results page does. Needs node and npm. Ports: the suite's
# origin on 8000, the proxy on CACHE_TESTS_PROXY_PORT (8081). Results in
# .tmp/cache-tests/. Usage: scripts/cache-tests.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.tmp/cache-tests"
port="${CACHE_TESTS_PROXY_PORT:-8081}"
mkdir -p "$dir"
cd "$dir"
[ -d node_modules/http-cache-tests ] || npm install --silent --no-audit --no-fund http-cache-tests@0.4.5 >/dev/null
suite="$dir/node_modules/http-cache-tests"
(cd "$root/examples" && go build -o "$dir/proxy" ./proxy)

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

(cd "$suite" && npm_package_config_protocol=http npm_package_config_port=8000 \
	npm_package_config_pidfile="$dir/server.pid" exec node server/server.mjs >"$dir/server.log" 2>&1) &
pids+=($!)
"$dir/proxy" -listen "127.0.0.1:$port" -origin http://localhost:8000 >"$dir/proxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
	sleep 0.1
done

(cd "$suite" && npm_config_base="http://127.0.0.1:$port" npm_package_config_id= \
	node --no-warnings cli.mjs) >"$dir/emgcache.json"
node "$root/scripts/cache-tests-score.mjs" "$suite" "$dir/emgcache.json" \
	"$suite/results/nginx.json" "$suite/results/varnish.json"
