// Package bench compares emgcache with what a Go service would use instead,
// in the same run against the same private Redis, so that figures from a
// shared machine can be quoted as ratios to a baseline measured beside them.
// It holds benchmarks only; nothing imports it.
//
// The benchmarks, each with a quick test checking that its cases read what
// their names say:
//
//   - BenchmarkRead: a cached 1 KiB, 100 KiB and 1 MiB value through the
//     store (Get and GetString served by the client-side cache, and Get
//     with that cache off), raw rueidis (DoCache and GET), go-redis GET,
//     and go-redis/cache with its local TinyLFU tier; sequential and
//     parallel. BenchmarkReadJSON: the same
//     for a typed analysis result.
//   - BenchmarkWrite: store Set against go-redis, go-redis/cache and rueidis.
//   - BenchmarkBatchGet: 1,000 keys through GetMany, patterns.BatchGet,
//     one call per key, and go-redis MGET.
//   - BenchmarkStampede: 100 concurrent misses of one key with a 50 ms
//     loader, patterns.Aside against go-redis/cache Once, in one process
//     and spread over four; it reports loader calls per stampede.
//   - BenchmarkOrigin: the seed's "50x faster than the database" against a
//     SQLite lookup, a SQLite aggregate and a 50 ms simulated query.
//
// Sub-benchmarks are named key=value, with the compared case under
// "client" (or "source"), and the baseline first, so that
//
//	go test -run '^$' -bench . -benchmem -count 6 -timeout 60m . > bench.txt
//	benchstat -filter '.name:Read' -col /client bench.txt
//	go run ./cmd/benchtable bench.txt
//
// compare every case with the baseline of its group. cmd/loadrun measures
// the HTTP analysis endpoint under load. docs/benchmarks.md at the
// repository root has the figures and how to read them.
package bench
