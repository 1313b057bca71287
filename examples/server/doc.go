// Command server runs the EMG workflow behind the cache, with the cache's
// monitoring API beside it.
//
// Users upload recordings (CSV: a header row of channel names, then one row
// of numbers per sample) with the rate they were sampled at. SQLite is the
// system of record; the cache holds what is read often or costs much to
// compute:
//
//	emg_metadata:{file_hash}@{version}  a recording's metadata, cache-aside
//	emg_analysis:{file_hash}:{digest}   analysis responses, one per query
//	user_prefs:{hash of the user id}    preferences, read and written through
//
// Both file families are versioned by the file's namespace,
// emg_file:{file_hash}: the metadata key names its version and the analysis
// digest covers it, so one InvalidateNamespace of it drops both. The layout
// comes from the emgkey module.
//
// The cache is never the reason a request fails: with Redis down, every
// endpoint answers from the database and the analysis code.
//
// Usage:
//
//	server [-addr :8080] [-db emgcache-server.db] [-max-upload 33554432]
//	       [-shutdown-timeout 10s] [-log-format text|json] [-log-level info]
//
// REDIS_URL selects Redis (unset: the embedded in-memory cache), ADDR the
// listen address when -addr is not given, and CACHE_ADMIN_TOKEN the bearer
// token of POST /api/cache/invalidate; without it a random token is made
// and logged once at start, so the endpoint is never open. SIGINT or
// SIGTERM stop the server: it stops accepting connections, lets requests
// in flight finish for up to -shutdown-timeout, then closes the cache and
// the database.
//
// EMGCACHE_OTEL=stdout turns on OpenTelemetry (otelhttp and the emgotel
// module): every span is written to standard output as JSON beside the
// log, and the metrics are served for Prometheus at GET /metrics; see
// docs/observability.md for a trace of a cached and an uncached analysis.
//
// Endpoints:
//
//	POST /api/emg/files?sample_rate=HZ              201 {file_hash, ...metadata}; 200 if stored before;
//	                                                409 if stored with another rate; 400 bad CSV or rate; 413 too large;
//	                                                415 a form or JSON instead of the file (use curl --data-binary)
//	POST /api/emg/files[?channels=A,B]              a C3D file, recognised by its header bytes: rate from the
//	                                                file (400 if sample_rate disagrees), EMG channels in mV,
//	                                                C3D metadata under "c3d"; 422 no such EMG channels
//	GET  /api/emg/files/{file_hash}                 200 metadata; 404 unknown; 400 not hex
//	GET  /api/emg/analysis/{file_hash}              200 analysis, with a Cache-Status header; 404; 400
//	     ?window_seconds=0.25&overlap=0.5           optional analysis options
//	GET  /api/users/{user_id}/preferences           200 JSON object; 404 none stored
//	PUT  /api/users/{user_id}/preferences           200 as stored; 400 not a JSON object; 413 over 16 KiB
//	GET  /api/cache/{health,stats,dashboard,metrics,ui}
//	POST /api/cache/invalidate?pattern=GLOB         admin token required
//
// Every error is a JSON object {"error": "..."}.
package main

// The shipped sample is generated; TestSampleFileIsGenerated keeps it so.
//go:generate go run github.com/emgcache/emgcache/emg/cmd/gensample -o testdata/sample_emg.csv
