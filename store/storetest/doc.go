// Package storetest starts real redis-server processes for tests, in the
// spirit of net/http/httptest.
//
// Fakes and in-process imitations of Redis drift from the real server in
// exactly the places a cache gets wrong: eviction, expiry, cluster
// redirections, connections that die half-way. So the tests of the store
// package, and of programs built on it, run against the real binary. Each
// server is private to its test: it listens on a free loopback port (never
// 6379, which may belong to a server somebody else relies on), keeps its data
// only in memory and lives in its own temporary directory, which also holds
// its log.
//
// NewServer and NewCluster are the entry points for tests: a failure to start
// fails the test, and the test's cleanup stops the processes. Start and
// StartCluster do the same for programs without a testing.TB, such as a
// benchmark runner; their callers must Close what they get.
//
// A Server can also misbehave on purpose, so that tests can watch a client
// cope: Kill makes it vanish, Pause makes it hang, Stop shuts it down, and
// Restart brings it back on the same address with an empty data set. Do runs
// one command on a connection of its own, which lets a test act as "another
// client" without depending on the client library under test.
//
// The redis-server binary is found through $EMGCACHE_REDIS_SERVER, then PATH,
// then /usr/bin, /usr/local/bin and /usr/sbin. A missing binary fails the
// test instead of skipping it: a skipped test would hide that nothing was
// tested. `make redis-server` at the repository root finds or installs it.
//
// On Linux a server is killed when the process that started it dies, even by
// SIGKILL, so a crashed or timed-out test binary leaves no servers behind.
// This relies on the parent-death signal, which the kernel ties to the OS
// thread that started the server; the Go runtime keeps its threads alive
// unless a goroutine exits while locked to one with runtime.LockOSThread, so
// do not start servers from such goroutines.
package storetest
