module github.com/emgcache/emgcache/health

go 1.25.0
