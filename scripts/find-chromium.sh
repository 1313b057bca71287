#!/usr/bin/env bash
# Prints the path of a Chromium the dashboard's browser test can drive. It
# looks at $EMGCACHE_CHROMIUM, then PATH, and on a Debian machine where none
# is found installs Debian's chromium package.
set -euo pipefail

works() { [ -n "${1:-}" ] && [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

for c in "${EMGCACHE_CHROMIUM:-}" \
	"$(command -v chromium 2>/dev/null || true)" \
	"$(command -v chromium-browser 2>/dev/null || true)" \
	"$(command -v google-chrome 2>/dev/null || true)" \
	/usr/bin/chromium; do
	if works "$c"; then echo "$c"; exit 0; fi
done

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	echo "chromium not found: installing Debian's chromium package" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends chromium >&2
	if works /usr/bin/chromium; then echo /usr/bin/chromium; exit 0; fi
fi

echo "chromium is required for the dashboard's browser test: install it (apt-get install chromium) or set EMGCACHE_CHROMIUM to its path" >&2
exit 1
