module github.com/emgcache/emgcache/patterns

go 1.25.0
