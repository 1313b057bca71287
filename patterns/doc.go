// Package patterns builds the caching patterns a high-traffic service needs on
// top of a [store.Cache]: cache-aside with stampede protection, pipelined
// batch reads and writes, cache warming by priority, and invalidation by key
// pattern. Every pattern works on both store backends (Redis, including Redis
// Cluster, and the embedded in-memory backend).
package patterns
