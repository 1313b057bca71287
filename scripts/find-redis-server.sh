#!/usr/bin/env bash
# Prints the path of a redis-server binary the tests can start. It looks at
# $EMGCACHE_REDIS_SERVER, then PATH and the usual install places, and on a
# Debian machine where none is found installs Debian's redis-server package.
set -euo pipefail

found() { [ -n "${1:-}" ] && [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

for c in "${EMGCACHE_REDIS_SERVER:-}" "$(command -v redis-server 2>/dev/null || true)" /usr/bin/redis-server /usr/local/bin/redis-server /usr/sbin/redis-server; do
	if found "$c"; then echo "$c"; exit 0; fi
done

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	echo "redis-server not found: installing Debian's redis-server package" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	# The package's own service is not wanted: tests start their own servers.
	apt-get install -y -qq --no-install-recommends redis-server >&2
	if found /usr/bin/redis-server; then echo /usr/bin/redis-server; exit 0; fi
fi

echo "redis-server is required for the tests: install it (apt-get install redis-server, brew install redis) or set EMGCACHE_REDIS_SERVER to its path" >&2
exit 1
