module github.com/emgcache/emgcache/bench

go 1.25.0
