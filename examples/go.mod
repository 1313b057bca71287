module github.com/emgcache/emgcache/examples

go 1.25.0
