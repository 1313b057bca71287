// Package bench compares emgcache with the libraries Go services would pick
// instead. It holds benchmarks only; nothing imports it.
package bench
