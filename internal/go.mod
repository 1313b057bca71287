module github.com/emgcache/emgcache/internal

go 1.25.0
