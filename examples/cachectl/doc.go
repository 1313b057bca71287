// Command cachectl talks to the cache monitoring API of an emgcache server,
// the one package health mounts under /api/cache/: it checks health, shows
// the stats as a table or a live view, invalidates keys by pattern and warms
// the cache from a list of URLs, paths or EMG file hashes.
//
// Usage:
//
//	cachectl [-server URL] [-token T] [-timeout D] <command> [flags] [arguments]
//
// The commands are health, stats, invalidate, watch and warm; `cachectl -h`
// describes them and `cachectl <command> -h` their flags.
//
// The server defaults to $CACHECTL_SERVER, else http://localhost:8080; the
// admin token, which only invalidate sends, to $CACHE_ADMIN_TOKEN.
//
// Exit status: 0 on success (health: the backend is healthy); 1 when
// health finds the backend unhealthy or warm could not load every entry; 2
// for an error: bad usage, a server that cannot be reached, or a request
// the server refused.
package main
