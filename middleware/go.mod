module github.com/emgcache/emgcache/middleware

go 1.25.0
