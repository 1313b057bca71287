module github.com/emgcache/emgcache/emgkey

go 1.25.0
